import { existsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Connection, DatabaseUrl, Dialect } from '../dialects/dialect.js'
import { loadDialect } from '../dialects/registry.js'
import { parseDatabaseUrl } from '../dialects/url.js'
import { StrataError, isStrataError, redact } from '../errors/index.js'
import { PointerStore, urlAt, type Pointer } from '../deploy/pointer.js'
import { MaintenanceStore } from './maintenance-store.js'

/**
 * The application's side of maintenance mode (SPEC S10). Imported by apps on every request, so
 * this module stays light: no CLI, no metrics, drivers loaded lazily through the registry, the
 * config loader only when a config file is named.
 */

/** Where to read the flag: a database URL, or the config file (and environment) strata uses. */
export type MaintenanceTarget =
  | string
  | {
      /** A database URL; overrides the config's environment URL, as `--url` does. */
      readonly url?: string
      /** Path of strata.yaml (default `./strata.yaml` when no `url` is given). */
      readonly config?: string
      /** Environment of the config (default: config's `environment` or STRATA_ENV). */
      readonly env?: string
      /** strata's table prefix (default: the config's `table_prefix`, else `strata_`). */
      readonly tablePrefix?: string
    }

/** What an application needs to know. */
export interface MaintenanceStatus {
  readonly enabled: boolean
  readonly message: string | null
  readonly until: string | null
}

/** How long an answer (or a failure) is served without asking the database again. */
/** How long an answer is reused; a deploy waits this long after turning maintenance on (SPEC S10). */
export const MAINTENANCE_CACHE_MS = 1000
const CACHE_MS = MAINTENANCE_CACHE_MS

const DEFAULT_PREFIX = 'strata_'

const DISABLED: MaintenanceStatus = Object.freeze({ enabled: false, message: null, until: null })

/** What one read of the home database tells: the maintenance flag and the blue-green pointer. */
interface Reading {
  readonly maintenance: MaintenanceStatus
  readonly pointer: Pointer | null
}

interface Answer {
  readonly value: Reading
  readonly at: number
}

/** One database and table prefix: its kept connection and its last answer. */
interface Entry {
  readonly url: DatabaseUrl
  readonly prefix: string
  readonly dialect: Promise<Dialect>
  conn: Promise<Connection> | null
  /** SQLite: device and inode of the file the kept connection has open. */
  fileId: string | null
  answer: Answer | null
  failure: { readonly error: StrataError; readonly at: number } | null
  inflight: Promise<Reading> | null
  closed: boolean
}

const entries = new Map<string, Entry>()
/** Config-based targets, resolved once per process (reading YAML on every request would cost). */
const resolvedTargets = new Map<string, Promise<{ url: DatabaseUrl; prefix: string }>>()

/**
 * Whether the application should show its maintenance page:
 *
 * ```ts
 * import { maintenanceStatus } from 'strata-migrate'
 * const { enabled, message, until } = await maintenanceStatus(process.env.DATABASE_URL!)
 * ```
 *
 * The answer is cached for one second per (database, table prefix), and one connection per
 * database is kept open and reused, so calling it on every request is cheap. A database with no
 * flag (no table, no SQLite file) is not in maintenance; the SQLite file is never created.
 * Rejects with StrataError `E_CONNECT` when the database cannot be read (failures are cached for
 * a second too, so a down server is not asked on every request). The kept connections hold the
 * process open: call `closeMaintenanceStatus()` at shutdown.
 */
export async function maintenanceStatus(target: MaintenanceTarget): Promise<MaintenanceStatus> {
  return (await reading(target)).maintenance
}

/** Where the application should read now (SPEC S10): the database the blue-green pointer names. */
export interface ActiveDatabase {
  /** The database URL to connect to, with the credentials of the URL given. */
  readonly url: string
  /** A SQLite file's path, or a server database's name. */
  readonly location: string
  /** When the pointer last switched; null when there was never a switch (the configured database). */
  readonly switchedAt: string | null
}

/**
 * The database the application should use now, after blue-green deploys (SPEC S10):
 *
 * ```ts
 * import { activeDatabase } from 'strata-migrate'
 * const { url } = await activeDatabase(process.env.DATABASE_URL!)
 * ```
 *
 * `target` is the configured database (the one the pointer lives in), as for `maintenanceStatus`,
 * and it shares its cache and kept connection: cheap on every request. Without a pointer it is
 * the configured database itself.
 */
export async function activeDatabase(target: MaintenanceTarget): Promise<ActiveDatabase> {
  const { url } = await resolveTarget(target)
  const { pointer } = await reading(target)
  if (!pointer) return { url: url.raw, location: url.path ?? url.raw, switchedAt: null }
  return { url: urlAt(url, pointer.active).raw, location: pointer.active, switchedAt: pointer.switchedAt }
}

async function reading(target: MaintenanceTarget): Promise<Reading> {
  const { url, prefix } = await resolveTarget(target)
  const entry = entryFor(url, prefix)
  const now = Date.now()
  if (entry.answer && now - entry.answer.at < CACHE_MS) return entry.answer.value
  if (entry.failure && now - entry.failure.at < CACHE_MS) throw entry.failure.error
  entry.inflight ??= refresh(entry).finally(() => {
    entry.inflight = null
  })
  return entry.inflight
}

/** Closes the connections `maintenanceStatus` keeps and forgets its answers. Safe to call twice. */
export async function closeMaintenanceStatus(): Promise<void> {
  const closing = [...entries.values()]
  entries.clear()
  resolvedTargets.clear()
  for (const entry of closing) entry.closed = true
  await Promise.all(closing.map((entry) => dropConnection(entry)))
}

function resolveTarget(target: MaintenanceTarget): Promise<{ url: DatabaseUrl; prefix: string }> | { url: DatabaseUrl; prefix: string } {
  if (typeof target === 'string') return { url: parseDatabaseUrl(target), prefix: DEFAULT_PREFIX }
  if (target.url !== undefined && target.config === undefined) {
    return { url: parseDatabaseUrl(target.url), prefix: target.tablePrefix ?? DEFAULT_PREFIX }
  }
  const key = JSON.stringify([target.config ?? null, target.env ?? null, target.url ?? null, target.tablePrefix ?? null, process.cwd()])
  let resolved = resolvedTargets.get(key)
  if (!resolved) {
    resolved = fromConfig(target)
    resolvedTargets.set(key, resolved)
    resolved.catch(() => resolvedTargets.delete(key))
  }
  return resolved
}

async function fromConfig(target: Exclude<MaintenanceTarget, string>): Promise<{ url: DatabaseUrl; prefix: string }> {
  const { loadConfig } = await import('../config/load-config.js')
  const config = loadConfig({
    ...(target.config !== undefined ? { config: target.config } : {}),
    ...(target.env !== undefined ? { env: target.env } : {}),
    ...(target.url !== undefined ? { url: target.url } : {}),
  })
  return { url: config.url, prefix: target.tablePrefix ?? config.tablePrefix }
}

function entryFor(url: DatabaseUrl, prefix: string): Entry {
  const key = `${url.dialect}\u0000${url.path ?? url.raw}\u0000${prefix}`
  let entry = entries.get(key)
  if (!entry) {
    const dialect = loadDialect(url.dialect)
    dialect.catch(() => {}) // reported by the read that awaits it
    entry = { url, prefix, dialect, conn: null, fileId: null, answer: null, failure: null, inflight: null, closed: false }
    entries.set(key, entry)
  }
  return entry
}

/** Reads the flag on the kept connection; a failure drops the connection (the next read reconnects). */
async function refresh(entry: Entry): Promise<Reading> {
  try {
    const value = await readFlag(entry)
    entry.answer = { value, at: Date.now() }
    entry.failure = null
    return value
  } catch (error) {
    await dropConnection(entry)
    if (entry.answer && Date.now() - entry.answer.at < CACHE_MS) return entry.answer.value
    const failure = asConnectError(error, entry.url)
    entry.failure = { error: failure, at: Date.now() }
    throw failure
  }
}

async function readFlag(entry: Entry): Promise<Reading> {
  const fileId = sqliteFileId(entry.url)
  if (fileId === 'missing') {
    // Never create the file, nor keep an empty stand-in open that would hide it once created.
    await dropConnection(entry)
    return { maintenance: DISABLED, pointer: null }
  }
  if (fileId !== entry.fileId) {
    // The file was replaced (a restore renames a copy into place): read the new one.
    await dropConnection(entry)
    entry.fileId = fileId
  }
  const dialect = await entry.dialect
  const pointer = entry.url.dialect === 'mysql' ? null : await readOnKept(entry, (conn) => new PointerStore(dialect, entry.prefix).read(conn))
  const state = await readOnKept(entry, (conn) => new MaintenanceStore(dialect, entry.prefix).read(conn))
  return { maintenance: Object.freeze({ enabled: state.enabled, message: state.message, until: state.until }), pointer }
}

/**
 * Reads on the kept connection. A kept session may have been closed by the server meanwhile (a
 * restart, an idle timeout): a failure on a reused session is retried once on a new one.
 */
async function readOnKept<T>(entry: Entry, read: (conn: Connection) => Promise<T>): Promise<T> {
  const reused = entry.conn !== null
  try {
    return await read(await keptConnection(entry))
  } catch (error) {
    if (!reused || entry.closed) throw error
    await dropConnection(entry)
    return read(await keptConnection(entry))
  }
}

/**
 * SQLite: the identity (device and inode) of the database file, or `missing` when it does not
 * exist yet in a folder that does; null for servers, `:memory:` and a missing folder (which
 * connecting reports as E_CONNECT).
 */
function sqliteFileId(url: DatabaseUrl): string | null {
  const path = url.path
  if (url.dialect !== 'sqlite' || path === undefined || path === ':memory:') return null
  try {
    const stats = statSync(path)
    return `${stats.dev}:${stats.ino}`
  } catch {
    return existsSync(dirname(path)) ? 'missing' : null
  }
}

async function keptConnection(entry: Entry): Promise<Connection> {
  if (!entry.conn) {
    const opening = entry.dialect.then((dialect) => dialect.connect(entry.url, { create: false }))
    entry.conn = opening
    opening.catch(() => {
      if (entry.conn === opening) entry.conn = null
    })
  }
  const conn = await entry.conn
  if (entry.closed) {
    // closeMaintenanceStatus ran while this connection was opening.
    await conn.close()
    throw new StrataError('E_CONNECT', 'maintenanceStatus was closed while reading', { hint: 'call maintenanceStatus again' })
  }
  return conn
}

async function dropConnection(entry: Entry): Promise<void> {
  const opening = entry.conn
  entry.conn = null
  if (!opening) return
  const conn = await opening.catch(() => null)
  await conn?.close().catch(() => {})
}

function asConnectError(error: unknown, url: DatabaseUrl): StrataError {
  if (isStrataError(error) && error.code === 'E_CONNECT') return error
  const reason = error instanceof Error ? error.message : String(error)
  return new StrataError('E_CONNECT', `cannot read maintenance mode from ${url.redacted}: ${redact(reason)}`, {
    hint: 'check the database URL and that the server is running',
  }, { cause: error })
}
