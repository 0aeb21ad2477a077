// Builds dist/: one ESM bundle per entry point (CLI and library) with shared chunks, so the CLI
// starts fast (SPEC S15: `status` under 200 ms). better-sqlite3 (native) and jiti (only needed to
// load TypeScript migrations) stay external and are imported lazily, as do the lint parsers
// (libpg-query's WASM and node-sql-parser's per-dialect grammars, loaded only by `strata lint`).
// Types come from tsc.
import { chmodSync } from 'node:fs'
import { build } from 'esbuild'

await build({
  entryPoints: { cli: 'src/cli.ts', index: 'src/index.ts', testing: 'src/testing.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Less to parse at every start; identifiers are kept so stack traces (--debug) stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3', 'jiti', 'pg', 'mysql2', 'libpg-query', 'node-sql-parser'],
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import { createRequire as __strataCreateRequire } from 'node:module'; const require = __strataCreateRequire(import.meta.url);" },
  logLevel: 'warning',
})
chmodSync('dist/cli.js', 0o755)
