import type { Connection, Dialect } from '../dialects/dialect.js'
import { rowsIfTable } from '../dialects/shared/missing-table.js'
import { StrataError } from '../errors/index.js'

/** The maintenance flag as stored (SPEC S10); `status --json` prints exactly these fields. */
export interface MaintenanceState {
  readonly enabled: boolean
  readonly message: string | null
  /** ISO-8601 UTC; when the operator expects maintenance to end (shown to users, not enforced). */
  readonly until: string | null
  /** `user@host` of whoever last turned it on or off. */
  readonly setBy: string | null
  readonly setAt: string | null
}

/** What `maintenance on` writes, validated (see `maintenanceChange`). */
export interface MaintenanceChange {
  readonly enabled: boolean
  readonly message: string | null
  readonly until: string | null
  readonly setBy: string
  readonly setAt: string
}

export const DEFAULT_MAINTENANCE_MESSAGE = 'Down for maintenance'

/** The answer when there is no flag at all (no table, no row): disabled, all nulls. */
export const MAINTENANCE_OFF: MaintenanceState = Object.freeze({ enabled: false, message: null, until: null, setBy: null, setAt: null })

/** An ISO-8601 date, or date and time with optional seconds, fraction and zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i

/**
 * `--until` as stored: an ISO-8601 time converted to UTC (`toISOString`). A time without a zone
 * is read as local time, as `Date.parse` does. Anything else is E_USAGE, and so is a time already
 * past (a wrong year or zone would otherwise tell the application's users maintenance had ended).
 */
export function parseUntil(text: string | undefined, now: number = Date.now()): string | null {
  if (text === undefined) return null
  const trimmed = text.trim()
  const ms = ISO_8601.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new StrataError('E_USAGE', `--until must be an ISO-8601 time, got \`${text}\``, {
      hint: 'write it like 2026-03-01T14:00:00Z (UTC) or 2026-03-01T15:00:00+01:00',
    })
  }
  if (ms <= now) {
    throw new StrataError('E_USAGE', `--until ${text} is in the past (it is now ${new Date(now).toISOString()})`, {
      hint: 'give the time maintenance is expected to end, with its zone (Z for UTC), or leave --until out',
    })
  }
  return new Date(ms).toISOString()
}

/** `--message` as stored: the default when absent; an empty message is E_USAGE. */
export function parseMessage(text: string | undefined): string {
  if (text === undefined) return DEFAULT_MAINTENANCE_MESSAGE
  if (text.trim() === '') {
    throw new StrataError('E_USAGE', '--message is empty', { hint: `leave it out for the default ("${DEFAULT_MAINTENANCE_MESSAGE}")` })
  }
  return text
}

interface MaintenanceRow {
  readonly enabled: unknown
  readonly message: unknown
  readonly until_at: unknown
  readonly set_by: unknown
  readonly set_at: unknown
}

/**
 * The maintenance flag in `<prefix>maintenance`: a single row (id 1). Portable column types, so
 * one DDL serves every dialect; identifiers quoted by the dialect, values bound (SPEC S16).
 * A missing table reads as "off"; only writing creates it.
 */
export class MaintenanceStore {
  readonly #table: string

  constructor(dialect: Pick<Dialect, 'quoteIdentifier'>, prefix: string) {
    this.#table = dialect.quoteIdentifier(`${prefix}maintenance`)
  }

  /** Creates the table when missing. */
  async ensureTable(conn: Connection): Promise<void> {
    await conn.execute({
      sql: `CREATE TABLE IF NOT EXISTS ${this.#table} (
        id integer NOT NULL PRIMARY KEY, enabled integer NOT NULL, message text,
        until_at varchar(40), set_by varchar(255), set_at varchar(40))`,
      params: [],
    })
  }

  /**
   * The stored flag; MAINTENANCE_OFF when the table or its row is missing. A failed read is told
   * apart from a missing table by a trivial query: when that fails too, the session is gone and
   * the original error is thrown.
   */
  async read(conn: Connection): Promise<MaintenanceState> {
    const rows = await rowsIfTable<MaintenanceRow>(conn, { sql: `SELECT enabled, message, until_at, set_by, set_at FROM ${this.#table} WHERE id = 1`, params: [] })
    const row = rows?.[0]
    return row ? stateOf(row) : MAINTENANCE_OFF
  }

  /**
   * Turns the flag on (with `change.message` and `change.until`) or off. Off keeps the last
   * message, clears `until`, and records who turned it off and when. Creates the table when missing.
   */
  async write(conn: Connection, change: MaintenanceChange): Promise<MaintenanceState> {
    await this.ensureTable(conn)
    return conn.transaction(async (tx) => {
      const updated = change.enabled
        ? await tx.execute({
            sql: `UPDATE ${this.#table} SET enabled = 1, message = ?, until_at = ?, set_by = ?, set_at = ? WHERE id = 1`,
            params: [change.message, change.until, change.setBy, change.setAt],
          })
        : await tx.execute({
            sql: `UPDATE ${this.#table} SET enabled = 0, until_at = NULL, set_by = ?, set_at = ? WHERE id = 1`,
            params: [change.setBy, change.setAt],
          })
      if (updated.rowsAffected === 0) {
        await tx.execute({
          sql: `INSERT INTO ${this.#table} (id, enabled, message, until_at, set_by, set_at) VALUES (1, ?, ?, ?, ?, ?)`,
          params: [change.enabled ? 1 : 0, change.enabled ? change.message : null, change.enabled ? change.until : null, change.setBy, change.setAt],
        })
      }
      return this.read(tx)
    })
  }
}

function stateOf(row: MaintenanceRow): MaintenanceState {
  return {
    enabled: Number(row.enabled) === 1,
    message: textOrNull(row.message),
    until: textOrNull(row.until_at),
    setBy: textOrNull(row.set_by),
    setAt: textOrNull(row.set_at),
  }
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}
