import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { StrataError } from '../../errors/index.js'
import { moduleTemplate, sqlTemplate } from '../../scaffold/templates.js'
import { globals } from '../context.js'
import { out, type GlobalOptions } from '../output.js'

export function registerNew(program: Command): void {
  program
    .command('new <description...>')
    .description('write the next migration file, parented on the current head')
    .option('--sql', 'write an SQL file with up/down sections instead of TypeScript')
    .option('--head <revision>', 'parent revision when the graph has several heads')
    .action(async (words: string[], local: { sql?: boolean; head?: string }, command: Command) => {
      const options = globals(command)
      const description = words.join(' ').trim()
      const slug = description.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60)
      if (!slug) throw new StrataError('E_USAGE', 'the description needs at least one letter or digit', { hint: 'e.g. strata new "add event_name to graphics"' })
      const { dir, revisions, heads, stems } = await migrationsOf(options)
      const parent = local.head ?? pickParent(heads)
      if (local.head && !revisions.includes(local.head)) {
        throw new StrataError('E_UNKNOWN_REVISION', `--head ${local.head} is not a known revision`, { hint: 'run `strata history` to list them' })
      }
      const next = nextNumber(stems)
      const stem = `${next}_${slug}`
      const last = [...stems].sort().at(-1)
      if (last !== undefined && stem <= last) {
        throw new StrataError('E_USAGE', `a new migration named ${stem} would sort before ${last}, and files default their parent to the previous file by name`, {
          hint: 'name the migrations with a numeric prefix (001_…), or write the file by hand with an explicit downRevision',
        })
      }
      const path = join(dir, `${stem}.${local.sql ? 'sql' : 'ts'}`)
      if (existsSync(path)) throw new StrataError('E_USAGE', `${path} already exists`)
      writeFileSync(path, local.sql ? sqlTemplate(description, parent) : moduleTemplate(description, parent))
      if (options.json) return out.json({ ok: true, revision: stem, path, downRevision: parent })
      out.info(`wrote ${path} (revision ${stem}, parent ${parent ?? 'none: a root'})`)
    })
}

async function migrationsOf(options: GlobalOptions): Promise<{ dir: string; revisions: string[]; heads: string[]; stems: string[] }> {
  const { loadConfig } = await import('../../config/load-config.js')
  const { discoverMigrations } = await import('../../loader/discover.js')
  // `new` needs no database: without a URL the folder still comes from the config or the flag.
  let dir: string
  let dialect: 'sqlite' | 'postgres' | 'mysql' = 'sqlite'
  try {
    const config = loadConfig({ ...options })
    dir = config.migrationsDir
    dialect = config.url.dialect
  } catch (error) {
    if (!(error instanceof StrataError) || !/no database|has no database URL|is not set/.test(error.message)) throw error
    const { readConfigFile } = await import('../../config/load-config.js')
    const file = options.config ? resolve(options.config) : existsSync('strata.yaml') ? resolve('strata.yaml') : null
    const raw = file ? readConfigFile(file) : {}
    dir = options.migrations ? resolve(options.migrations) : resolve(file ? resolve(file, '..') : '.', raw.migrations ?? 'migrations')
  }
  const stems = discoverMigrations(dir).map((f) => f.stem)
  if (stems.length === 0) return { dir, revisions: [], heads: [], stems }
  const { loadMigrations } = await import('../../loader/load-migrations.js')
  const { buildGraph } = await import('../../graph/index.js')
  const defs = await loadMigrations(dir, dialect)
  const graph = buildGraph(defs.map((d) => ({ revision: d.revision, downRevisions: d.downRevisions, dependsOn: d.dependsOn, branchLabels: d.branchLabels, file: d.file.relativePath })))
  return { dir, revisions: defs.map((d) => d.revision), heads: [...graph.heads], stems }
}

function pickParent(heads: readonly string[]): string | null {
  if (heads.length <= 1) return heads[0] ?? null
  throw new StrataError('E_MULTIPLE_HEADS', `the migrations have several heads: ${heads.join(', ')}`, {
    heads,
    hint: 'pass --head REV to extend one of them, or write a merge migration with downRevision: [...]',
  })
}

/** The next zero-padded number after the highest numeric prefix, so the new file sorts last. */
function nextNumber(stems: readonly string[]): string {
  let max = -1
  let width = 3
  for (const stem of stems) {
    const match = /^(\d+)/.exec(stem)
    if (match) {
      max = Math.max(max, Number(match[1]))
      width = Math.max(width, match[1]!.length)
    }
  }
  return String(max + 1).padStart(width, '0')
}
