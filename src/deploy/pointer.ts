import { existsSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import type { Connection, DatabaseUrl, Dialect } from '../dialects/dialect.js'
import { rowsIfTable } from '../dialects/shared/missing-table.js'
import { StrataError, redact } from '../errors/index.js'

/**
 * The blue-green pointer (SPEC S10): which database an environment's application uses now, kept
 * in `<prefix>deployment` (one row) of the configured ("home") database. It names databases by
 * location (a SQLite file's path, a PostgreSQL database's name), never by URL: credentials stay
 * in the configuration. No row (or no table) means the home database itself.
 */
export interface Pointer {
  /** Where the application reads now. */
  readonly active: string
  /** The database it read before the last switch: what `strata deploy --rollback` returns to. */
  readonly previous: string | null
  readonly switchedAt: string
  readonly switchedBy: string
  readonly runId: string
  /** A digest of the active database's contents right after the switch: a rollback refuses when they changed. */
  readonly activeDigest: string | null
}

interface PointerRow {
  readonly active: unknown
  readonly previous: unknown
  readonly switched_at: unknown
  readonly switched_by: unknown
  readonly run_id: unknown
  readonly active_digest: unknown
}

export class PointerStore {
  readonly #table: string

  constructor(dialect: Pick<Dialect, 'quoteIdentifier'>, prefix: string) {
    this.#table = dialect.quoteIdentifier(`${prefix}deployment`)
  }

  /** The pointer, or null when there is none (no table, no row). */
  async read(conn: Connection): Promise<Pointer | null> {
    const rows = await rowsIfTable<PointerRow>(conn, { sql: `SELECT active, previous, switched_at, switched_by, run_id, active_digest FROM ${this.#table} WHERE id = 1`, params: [] })
    const row = rows?.[0]
    if (!row) return null
    return {
      active: String(row.active), previous: row.previous === null || row.previous === undefined ? null : String(row.previous),
      switchedAt: String(row.switched_at), switchedBy: String(row.switched_by), runId: String(row.run_id),
      activeDigest: row.active_digest === null || row.active_digest === undefined ? null : String(row.active_digest),
    }
  }

  /** Points the application at `pointer.active`, in one statement's transaction. */
  async write(conn: Connection, pointer: Pointer): Promise<void> {
    await conn.execute({
      sql: `CREATE TABLE IF NOT EXISTS ${this.#table} (
        id integer NOT NULL PRIMARY KEY, active text NOT NULL, previous text,
        switched_at varchar(40) NOT NULL, switched_by varchar(255) NOT NULL, run_id varchar(64) NOT NULL, active_digest varchar(64))`,
      params: [],
    })
    await conn.transaction(async (tx) => {
      await tx.execute({ sql: `DELETE FROM ${this.#table} WHERE id = 1`, params: [] })
      await tx.execute({
        sql: `INSERT INTO ${this.#table} (id, active, previous, switched_at, switched_by, run_id, active_digest) VALUES (1, ?, ?, ?, ?, ?, ?)`,
        params: [pointer.active, pointer.previous, pointer.switchedAt, pointer.switchedBy, pointer.runId, pointer.activeDigest],
      })
    })
  }

  /** Forgets any pointer a copied database brought along (a copy must never redirect). */
  async clear(conn: Connection): Promise<void> {
    await conn.execute({ sql: `DELETE FROM ${this.#table}`, params: [] }).catch(() => {})
  }
}

/** Where a URL's database lives: a SQLite file's absolute path, a server database's name. */
export function locationOf(url: DatabaseUrl): string {
  if (url.dialect === 'sqlite') return url.path ?? url.raw
  const name = decodeURIComponent(new URL(url.raw).pathname.replace(/^\//, ''))
  if (name === '') throw new StrataError('E_USAGE', `the URL ${url.redacted} names no database`, { hint: 'name the database in the URL path: postgres://host/NAME' })
  return name
}

/** The URL of `location` on the home database's server, with the home URL's credentials and options. */
export function urlAt(home: DatabaseUrl, location: string): DatabaseUrl {
  if (home.dialect === 'sqlite') return { dialect: 'sqlite', raw: `sqlite:${location}`, redacted: `sqlite:${location}`, path: location }
  const parsed = new URL(home.raw)
  parsed.pathname = `/${encodeURIComponent(location)}`
  const raw = parsed.toString()
  return { dialect: home.dialect, raw, redacted: redact(raw) }
}

/** A new location beside the home database for a green copy: `live.<stamp>.db`, `dashboard_<stamp>`. */
export function greenLocation(home: DatabaseUrl, stamp: string): string {
  const tag = stamp.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (home.dialect === 'sqlite') {
    const path = home.path ?? ''
    const ext = extname(path)
    return join(dirname(path), `${basename(path, ext)}.${tag}${ext || '.db'}`)
  }
  // PostgreSQL names are at most 63 bytes.
  return `${locationOf(home).slice(0, 62 - tag.length)}_${tag}`
}

/** Whether a location still holds a database (SQLite: the file; servers: checked by the caller). */
export function sqliteLocationExists(location: string): boolean {
  return existsSync(location)
}
