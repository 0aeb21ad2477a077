import type { Dialect } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import { StrataEmitter, type Direction } from '../events/events.js'
import type { RevisionGraph } from '../graph/index.js'
import type { MigrationDef } from '../loader/migration.js'
import { executeMigration } from '../runner/execute-migration.js'
import { buildPlan } from './plan.js'

export interface OfflineOptions {
  readonly direction: Direction
  readonly target: string
  /** The revision the database is assumed to be at (default: nothing applied for up). */
  readonly from?: string
}

/**
 * `plan --sql` (SPEC S4): the SQL that `up`/`down` would run, without connecting to the
 * configured database. Embedded engines replay the migrations on a scratch in-memory database, so
 * the output is exactly what runs, table rebuilds included.
 */
export async function renderOfflineSql(
  dialect: Dialect,
  graph: RevisionGraph,
  migrations: ReadonlyMap<string, MigrationDef>,
  options: OfflineOptions,
): Promise<string> {
  if (!dialect.capabilities.embedded) {
    throw new StrataError('E_OFFLINE', `offline SQL is not available for ${dialect.name} yet`, {})
  }
  const conn = await dialect.connect({ dialect: dialect.name, raw: `${dialect.name}::memory:`, redacted: `${dialect.name}::memory:`, path: ':memory:' })
  const events = new StrataEmitter()
  try {
    const applied = new Set<string>()
    const start = options.from ?? (options.direction === 'down' ? 'heads' : undefined)
    if (start) {
      for (const step of buildPlan(graph, migrations, applied, 'up', start).steps) {
        await conn.transaction((tx) => executeMigration(step.migration, 'up', { conn: tx, dialect, events, runId: 'offline' }))
        applied.add(step.revision)
      }
    }
    const plan = buildPlan(graph, migrations, applied, options.direction, options.target)
    const out: string[] = [`-- strata plan --sql: ${options.direction} to ${options.target} (from ${start ?? 'base'})`]
    for (const step of plan.steps) {
      out.push('', `-- ${step.revision} (${step.direction}) ${step.migration.file.relativePath}: ${step.migration.description}`)
      if (step.migration.transactional) out.push('BEGIN;')
      const { statements } = await conn.transaction((tx) => executeMigration(step.migration, step.direction, { conn: tx, dialect, events, runId: 'offline' }))
      for (const s of statements) out.push(`${s.sql.trim()};${s.params.length > 0 ? ` -- params: ${JSON.stringify(s.params, jsonValue)}` : ''}`)
      if (step.migration.transactional) out.push('COMMIT;')
    }
    return `${out.join('\n')}\n`
  } finally {
    await conn.close()
  }
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `x'${Buffer.from(value).toString('hex')}'`
  return value
}
