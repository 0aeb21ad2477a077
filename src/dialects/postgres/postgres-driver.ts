import type PgTypes from 'pg'
import { StrataError, redact } from '../../errors/index.js'
import { mapPlaceholders } from '../../sql/placeholders.js'
import type { ConnectOptions, Connection, DatabaseUrl, Statement } from '../dialect.js'
import { postgresSettings } from './postgres-url.js'

type Client = PgTypes.Client

/** How long connecting may take before E_CONNECT. */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * Opens one session on the server; `pg` is imported here, lazily, so SQLite runs never load it.
 * `applicationName` shows in pg_stat_activity (the lock uses it to name its holder).
 */
export async function openPostgresClient(url: DatabaseUrl, applicationName = 'strata', options: ConnectOptions = {}): Promise<Client> {
  let pg: typeof PgTypes
  try {
    pg = (await import('pg')).default
  } catch (error) {
    throw new StrataError('E_CONNECT', `cannot load the PostgreSQL client (pg): ${(error as Error).message}`, { hint: 'run `npm install pg`' }, { cause: error })
  }
  const { connectionString, schema } = postgresSettings(url)
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: applicationName.slice(0, 63) })
  client.on('error', () => {}) // a dropped session surfaces on the next query
  try {
    await client.connect()
    if (schema) {
      // Like the database file on SQLite, the schema is created by the first run that writes.
      if (options.create !== false) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`)
      await client.query(`SET search_path TO ${quote(schema)}`)
    }
  } catch (error) {
    await client.end().catch(() => {})
    throw new StrataError('E_CONNECT', `cannot connect to ${url.redacted}: ${redact((error as Error).message)}`, {
      hint: 'check the URL, that the server is running and accepts connections, and the credentials',
    }, { cause: error })
  }
  return client
}

export async function openPostgres(url: DatabaseUrl, options: ConnectOptions = {}): Promise<Connection> {
  return new PostgresConnection(await openPostgresClient(url, 'strata', options))
}

/** A `pg` session as a strata Connection: `?` placeholders become `$1…$n`; nested transactions are savepoints. */
export class PostgresConnection implements Connection {
  readonly dialect = 'postgres' as const
  readonly #client: Client
  #depth = 0

  constructor(client: Client) {
    this.#client = client
  }

  async execute(stmt: Statement): Promise<{ readonly rowsAffected: number }> {
    const result = await this.#client.query(numbered(stmt), stmt.params.map(bindable))
    return { rowsAffected: result.rowCount ?? 0 }
  }

  async query<Row = Record<string, unknown>>(stmt: Statement): Promise<Row[]> {
    const result = await this.#client.query(numbered(stmt), stmt.params.map(bindable))
    return result.rows as Row[]
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    const name = `strata_sp_${this.#depth}`
    await this.#client.query(this.#depth === 0 ? 'BEGIN' : `SAVEPOINT ${name}`)
    this.#depth++
    try {
      const result = await fn(this)
      await this.#client.query(this.#depth === 1 ? 'COMMIT' : `RELEASE SAVEPOINT ${name}`)
      return result
    } catch (error) {
      await this.#client.query(this.#depth === 1 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${name}`).catch(() => {})
      throw error
    } finally {
      this.#depth--
    }
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => {})
  }
}

/** `?` → `$n`, only when there are values to bind: raw SQL may use PostgreSQL's own `?` operators. */
function numbered(stmt: Statement): string {
  return stmt.params.length === 0 ? stmt.sql : mapPlaceholders(stmt.sql, (index) => `$${index + 1}`)
}

function bindable(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  return value
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`
}
