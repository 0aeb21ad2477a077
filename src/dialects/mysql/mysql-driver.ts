import type * as Mysql from 'mysql2/promise'
import { StrataError, redact } from '../../errors/index.js'
import type { ConnectOptions, Connection, DatabaseUrl, Statement } from '../dialect.js'

type MysqlConnection = Mysql.Connection

const CONNECT_TIMEOUT_MS = 10_000

/**
 * Opens one session on a MySQL or MariaDB server; `mysql2` is imported here, lazily, so other
 * engines never load it. `mariadb://` URLs are read as `mysql://`.
 */
export async function openMysqlSession(url: DatabaseUrl): Promise<MysqlConnection> {
  let mysql: typeof Mysql
  try {
    mysql = (await import('mysql2/promise')).default as unknown as typeof Mysql
  } catch (error) {
    throw new StrataError('E_CONNECT', `cannot load the MySQL client (mysql2): ${(error as Error).message}`, { hint: 'run `npm install mysql2`' }, { cause: error })
  }
  const uri = url.raw.replace(/^mariadb:/i, 'mysql:')
  try {
    return await mysql.createConnection({ uri, connectTimeout: CONNECT_TIMEOUT_MS, supportBigNumbers: true, bigNumberStrings: false, dateStrings: true, multipleStatements: false })
  } catch (error) {
    throw new StrataError('E_CONNECT', `cannot connect to ${url.redacted}: ${redact((error as Error).message)}`, {
      hint: 'check the URL, that the server is running and accepts connections, and the credentials',
    }, { cause: error })
  }
}

export async function openMysql(url: DatabaseUrl, _options: ConnectOptions = {}): Promise<Connection> {
  return new MysqlSession(await openMysqlSession(url))
}

/**
 * A mysql2 session as a strata Connection. MySQL commits DDL implicitly, so a transaction here
 * protects data changes only; the runner treats the engine as non-transactional (SPEC S4).
 */
export class MysqlSession implements Connection {
  readonly dialect = 'mysql' as const
  readonly #conn: MysqlConnection
  #depth = 0

  constructor(conn: MysqlConnection) {
    this.#conn = conn
  }

  async execute(stmt: Statement): Promise<{ readonly rowsAffected: number }> {
    const [result] = await this.#conn.query(stmt.sql, stmt.params.map(bindable))
    return { rowsAffected: Array.isArray(result) ? result.length : (result as { affectedRows?: number }).affectedRows ?? 0 }
  }

  async query<Row = Record<string, unknown>>(stmt: Statement): Promise<Row[]> {
    const [rows] = await this.#conn.query(stmt.sql, stmt.params.map(bindable))
    return (Array.isArray(rows) ? rows : []) as Row[]
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    const name = `strata_sp_${this.#depth}`
    await this.#conn.query(this.#depth === 0 ? 'START TRANSACTION' : `SAVEPOINT ${name}`)
    this.#depth++
    try {
      const result = await fn(this)
      await this.#conn.query(this.#depth === 1 ? 'COMMIT' : `RELEASE SAVEPOINT ${name}`)
      return result
    } catch (error) {
      await this.#conn.query(this.#depth === 1 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${name}`).catch(() => {})
      throw error
    } finally {
      this.#depth--
    }
  }

  async close(): Promise<void> {
    await this.#conn.end().catch(() => this.#conn.destroy())
  }
}

function bindable(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  return value
}
