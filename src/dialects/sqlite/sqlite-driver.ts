import type BetterSqlite3 from 'better-sqlite3'
import { StrataError } from '../../errors/index.js'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Connection, ConnectOptions, DatabaseUrl, Statement } from '../dialect.js'

type Database = BetterSqlite3.Database

/** Milliseconds a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000

interface ForeignKeyViolation {
  readonly table: string
  readonly rowid: number | bigint | null
  readonly parent: string
  readonly fkid: number
}

/**
 * Opens the SQLite database at `url.path` (an absolute path or `:memory:`), creating the file
 * when it does not exist. better-sqlite3 is imported here, lazily, and nowhere else, so CLI
 * commands that never touch a database start fast. The journal mode is left as the file has it.
 * Throws E_CONNECT with a hint when the client cannot load or the file cannot be opened or read.
 */
export async function openSqlite(url: DatabaseUrl, options: ConnectOptions = {}): Promise<Connection> {
  // Read-only commands never create the file: an empty in-memory database stands in for one that
  // does not exist yet, as long as its folder does (a missing folder is still an error below).
  const standIn = options.create === false && url.path !== undefined && url.path !== ':memory:' && !existsSync(url.path) && existsSync(dirname(url.path))
  const path = standIn ? ':memory:' : url.path
  if (path === undefined || path === '') {
    throw new StrataError('E_CONNECT', `the SQLite URL \`${url.redacted}\` names no database file`, {
      hint: 'use sqlite:PATH, e.g. sqlite:./data/app.db',
    })
  }
  let Driver: typeof BetterSqlite3
  try {
    Driver = (await import('better-sqlite3')).default
  } catch (error) {
    throw new StrataError('E_CONNECT', `cannot load the SQLite client (better-sqlite3): ${messageOf(error)}`, {
      hint: 'run `npm rebuild better-sqlite3` (it is a native module built for one Node.js version)',
    }, { cause: error })
  }
  let db: Database | undefined
  try {
    db = new Driver(path, { timeout: BUSY_TIMEOUT_MS })
    // Reading the schema proves the file is a database (a text file opens fine and fails here).
    db.prepare('SELECT count(*) FROM sqlite_master').get()
  } catch (error) {
    db?.close()
    throw new StrataError('E_CONNECT', `cannot open SQLite database \`${path}\`: ${messageOf(error)}`, {
      hint: 'check that the folder exists and is writable and that the file is an SQLite database',
      path,
    }, { cause: error })
  }
  return new SqliteConnection(db)
}

/** Prepared statements kept per connection: strata's own bound statements repeat every migration. */
const STATEMENT_CACHE_SIZE = 32
const SCHEMA_CHANGE = /^\s*(?:CREATE|ALTER|DROP)\s/i

/**
 * A CREATE, ALTER or DROP without parameters and without a `;` (which could end it and start
 * another): run through `exec`, which finalizes its statement at once. A prepared one would live
 * until the garbage collector finalizes it, and every schema change visits all live statements
 * of the connection: a run of small migrations slows with each one. It reads no rows and
 * changes none, so nothing is lost by not keeping it.
 */
function isPlainSchemaChange(stmt: Statement): boolean {
  return stmt.params.length === 0 && SCHEMA_CHANGE.test(stmt.sql) && stmt.sql.indexOf(';') === -1
}

/**
 * A better-sqlite3 database as a strata `Connection`. Statements are prepared one at a time
 * (the loader has split the files); errors from better-sqlite3 propagate unchanged.
 */
export class SqliteConnection implements Connection {
  readonly dialect = 'sqlite' as const
  readonly #db: Database
  readonly #statements = new Map<string, BetterSqlite3.Statement>()
  /** Open transaction levels on this connection: 0 none, 1 BEGIN, 2+ savepoints. */
  #depth = 0
  /**
   * Foreign keys were on before a transaction switched them off. They are switched back on
   * before the next statement outside a transaction rather than after each COMMIT: changing the
   * pragma expires every prepared statement, and migrations run back to back.
   */
  #restoreForeignKeys = false
  /**
   * The two pragmas every transaction runs, prepared once rather than left alive by the pair
   * each migration (see isPlainSchemaChange). Changing a pragma or the schema expires them, and
   * SQLite prepares them again at their next use.
   */
  #foreignKeysState: BetterSqlite3.Statement | null = null
  #foreignKeyCheck: BetterSqlite3.Statement | null = null

  constructor(db: Database) {
    this.#db = db
  }

  /**
   * Statements with parameters (strata's history and log writes, bound user DML) are cached;
   * SQLite re-prepares a cached statement by itself when the schema changes under it.
   */
  #prepare(stmt: Statement): BetterSqlite3.Statement {
    if (stmt.params.length === 0) return this.#db.prepare(stmt.sql)
    let prepared = this.#statements.get(stmt.sql)
    if (!prepared) {
      prepared = this.#db.prepare(stmt.sql)
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value!)
      this.#statements.set(stmt.sql, prepared)
    }
    return prepared
  }

  #outsideTransaction(): void {
    if (this.#restoreForeignKeys && this.#depth === 0 && !this.#db.inTransaction) {
      this.#db.exec('PRAGMA foreign_keys = ON')
      this.#restoreForeignKeys = false
    }
  }

  async execute(stmt: Statement): Promise<{ readonly rowsAffected: number }> {
    this.#outsideTransaction()
    if (isPlainSchemaChange(stmt)) {
      this.#db.exec(stmt.sql)
      return { rowsAffected: 0 }
    }
    const prepared = this.#prepare(stmt)
    const params = bindable(stmt.params)
    if (prepared.reader) {
      const rows = prepared.all(...params)
      return { rowsAffected: prepared.readonly ? 0 : rows.length }
    }
    return { rowsAffected: prepared.run(...params).changes }
  }

  async query<Row = Record<string, unknown>>(stmt: Statement): Promise<Row[]> {
    this.#outsideTransaction()
    const prepared = this.#prepare(stmt)
    const params = bindable(stmt.params)
    if (prepared.reader) return prepared.all(...params) as Row[]
    prepared.run(...params)
    return []
  }

  /**
   * The outermost level (SPEC S3): note `foreign_keys` and switch it off (the pragma is a no-op
   * inside a transaction, so this comes before BEGIN), BEGIN IMMEDIATE (take the write lock
   * now rather than fail half-way), run `fn`, then `PRAGMA foreign_key_check`: any violation
   * rolls back and throws E_MIGRATION_FAILED naming it; else COMMIT. `foreign_keys` is
   * restored before the next statement outside a transaction. Nested levels are savepoints.
   */
  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    if (this.#depth > 0 || this.#db.inTransaction) return this.#savepoint(fn)
    const db = this.#db
    if ((this.#foreignKeysState ??= db.prepare('PRAGMA foreign_keys').pluck()).get() === 1) {
      db.exec('PRAGMA foreign_keys = OFF')
      this.#restoreForeignKeys = true
    }
    db.exec('BEGIN IMMEDIATE')
    this.#depth = 1
    try {
      const result = await fn(this)
      const violations = (this.#foreignKeyCheck ??= db.prepare('PRAGMA foreign_key_check')).all() as ForeignKeyViolation[]
      if (violations.length > 0) throw foreignKeyError(violations)
      db.exec('COMMIT')
      return result
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw error
    } finally {
      this.#depth = 0
    }
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }

  async #savepoint<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    const name = `strata_sp_${this.#depth}`
    this.#db.exec(`SAVEPOINT ${name}`)
    this.#depth++
    try {
      const result = await fn(this)
      this.#db.exec(`RELEASE ${name}`)
      return result
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`)
      throw error
    } finally {
      this.#depth--
    }
  }
}

/** Values better-sqlite3 can bind: whole numbers and booleans as INTEGER, any Uint8Array as a Buffer. */
function bindable(params: readonly unknown[]): unknown[] {
  return params.map((p) => {
    if (typeof p === 'boolean') return p ? 1n : 0n
    // better-sqlite3 binds every JS number as REAL; whole numbers go in as INTEGER, as written.
    if (typeof p === 'number' && Number.isSafeInteger(p)) return BigInt(p)
    if (p instanceof Uint8Array && !Buffer.isBuffer(p)) return Buffer.from(p.buffer, p.byteOffset, p.byteLength)
    return p
  })
}

const SHOWN_VIOLATIONS = 5

function foreignKeyError(violations: readonly ForeignKeyViolation[]): StrataError {
  const shown = violations.slice(0, SHOWN_VIOLATIONS).map((v) => `\`${v.table}\` rowid ${v.rowid ?? '?'} → \`${v.parent}\``)
  const more = violations.length > SHOWN_VIOLATIONS ? ` and ${violations.length - SHOWN_VIOLATIONS} more` : ''
  return new StrataError(
    'E_MIGRATION_FAILED',
    `foreign key check failed, nothing was committed: ${shown.join(', ')}${more} (rows whose parent row does not exist)`,
    {
      hint: 'delete or fix the violating rows (in this migration, before the change) or change the foreign key; `PRAGMA foreign_key_check` lists them',
      violations: violations.map((v) => ({ table: v.table, rowid: v.rowid, parent: v.parent, fkid: v.fkid })),
    },
  )
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
