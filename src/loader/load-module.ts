import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { StrataError } from '../errors/index.js'
import type { MigrationOptions } from '../migration.js'

type Jiti = { import(id: string, options?: { default?: boolean }): Promise<unknown> }
let jiti: Jiti | undefined

/**
 * strata's own entry point, so user migrations importing `strata-migrate` get this very copy:
 * `dist/index.js` seen from a bundle chunk (`dist/chunks/`) or entry (`dist/`), or `src/index.ts`.
 */
function selfEntry(): string {
  for (const candidate of ['../index.js', './index.js', '../index.ts']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(path)) return path
  }
  throw new Error('cannot find the strata-migrate entry point beside the loader')
}

async function loader(): Promise<Jiti> {
  if (!jiti) {
    const { createJiti } = await import('jiti')
    jiti = createJiti(import.meta.url, {
      alias: { 'strata-migrate': selfEntry() },
      fsCache: true,
      moduleCache: false,
      interopDefault: true,
    }) as unknown as Jiti
  }
  return jiti
}

/**
 * Evaluates a TypeScript/JavaScript migration module without a build step and returns its
 * default export. The module's own syntax or import errors become E_MIGRATION_FILE naming it.
 */
export async function loadMigrationModule(path: string, shownAs: string): Promise<MigrationOptions> {
  let exported: unknown
  try {
    exported = await (await loader()).import(path, { default: true })
  } catch (error) {
    throw new StrataError('E_MIGRATION_FILE', `cannot load migration ${shownAs}: ${firstLine(error)}`, {
      file: path,
      hint: 'fix the syntax or import error in that file; nothing was run',
    }, { cause: error })
  }
  if (exported === null || typeof exported !== 'object') {
    throw new StrataError('E_MIGRATION_FILE', `migration ${shownAs} has no default export`, {
      file: path,
      hint: 'write `export default migration({ up(op) { … }, down(op) { … } })`',
    })
  }
  return exported as MigrationOptions
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}
