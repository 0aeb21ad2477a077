import { hostname, userInfo } from 'node:os'
import type { ResolvedConfig } from '../config/load-config.js'
import type { ConnectOptions, Connection, Dialect } from '../dialects/dialect.js'
import { loadDialect } from '../dialects/registry.js'
import { StrataError, isStrataError } from '../errors/index.js'
import type { StrataEmitter } from '../events/events.js'
import { buildGraph, type RevisionGraph } from '../graph/index.js'
import { HistoryStore } from '../history/history-store.js'
import { loadMigrations } from '../loader/load-migrations.js'
import type { MigrationDef } from '../loader/migration.js'
import { timeId } from '../util/ids.js'

/** What every command works with: config, dialect, migrations and their graph (no connection yet). */
export interface Project {
  readonly config: ResolvedConfig
  readonly dialect: Dialect
  readonly migrations: ReadonlyMap<string, MigrationDef>
  readonly graph: RevisionGraph
  readonly history: HistoryStore
  readonly events: StrataEmitter
}

/** Loads the dialect, the migration files and the graph; refuses a bad graph before connecting. */
export async function loadProject(config: ResolvedConfig, events: StrataEmitter): Promise<Project> {
  const dialect = await loadDialect(config.url.dialect)
  const defs = await loadMigrations(config.migrationsDir, dialect.name)
  const graph = buildGraph(defs.map((d) => ({
    revision: d.revision,
    downRevisions: d.downRevisions,
    dependsOn: d.dependsOn,
    branchLabels: d.branchLabels,
    file: d.file.relativePath,
  })))
  return {
    config,
    dialect,
    migrations: new Map(defs.map((d) => [d.revision, d])),
    graph,
    history: new HistoryStore(dialect, config.tablePrefix),
    events,
  }
}

/** The part of a project that reaches the database: enough for commands that need no migrations. */
export type DatabaseAccess = Pick<Project, 'config' | 'dialect'>

/** Opens a session on the configured database; unreachable databases become E_CONNECT. */
export async function connect(project: DatabaseAccess, options: ConnectOptions = {}): Promise<Connection> {
  try {
    return await project.dialect.connect(project.config.url, options)
  } catch (error) {
    if (isStrataError(error)) throw error
    throw new StrataError('E_CONNECT', `cannot connect to ${project.config.url.redacted}: ${(error as Error).message}`, {}, { cause: error })
  }
}

/** `user@host`, as recorded in history, logs and runs. */
export function whoAmI(): string {
  let user = process.env['USER'] ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (containers): keep $USER.
  }
  return `${user}@${hostname()}`
}

/** A run id that sorts by time: `20261125T164500Z-3f9a1c`. */
export function newRunId(): string {
  return timeId()
}

/** Runs `fn` on a connection of its own, closed afterwards whatever happens. */
export async function withConnection<T>(project: DatabaseAccess, fn: (conn: Connection) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
  const conn = await connect(project, options)
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

/**
 * Runs a read-only command on a connection that creates nothing. A database busy under another
 * runner's write becomes E_CONNECT naming that runner, not a bare "database is locked".
 */
export async function readOnly<T>(project: DatabaseAccess, fn: (conn: Connection) => Promise<T>): Promise<T> {
  try {
    const conn = await connect(project, { create: false })
    try {
      return await fn(conn)
    } finally {
      await conn.close()
    }
  } catch (error) {
    if (!isBusy(error)) throw error
    const { holder } = await project.dialect.lock(project.config.url, project.config.tablePrefix).inspect().catch(() => ({ holder: null }))
    const who = holder ? `pid ${holder.pid} on host ${holder.host}${holder.command ? ` (\`strata ${holder.command}\`)` : ''}` : 'another process'
    throw new StrataError('E_CONNECT', `the database is busy: ${who} is writing to it`, {
      hint: 'run the command again when that write is done (strata reads between migrations)',
    }, { cause: error })
  }
}

function isBusy(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) return true
  }
  return false
}
