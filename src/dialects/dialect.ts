import type { OpKind, OpOf, Operation } from '../ops/operation.js'
import type { SchemaSnapshot, TableSnapshot } from '../schema/snapshot.js'

export type DialectName = 'sqlite' | 'postgres' | 'mysql'

/** What an engine can do; core code asks these, never the dialect's name (STYLE 3.2). */
export interface Capabilities {
  /** DDL rolls back with the transaction (sqlite, postgres: true; mysql: false). */
  readonly transactionalDdl: boolean
  /** `CREATE INDEX CONCURRENTLY` exists (postgres). */
  readonly concurrentIndex: boolean
  /** ALTER COLUMN / constraint changes happen in place; false means a table rebuild (sqlite). */
  readonly alterColumnInPlace: boolean
  /** A server-side session lock exists (postgres, mysql). */
  readonly advisoryLock: boolean
  /** The engine runs in-process, so `plan --sql` can replay migrations on a scratch `:memory:` database. */
  readonly embedded?: boolean
}

/** A parsed database URL. `redacted` is the only form that may be printed. */
export interface DatabaseUrl {
  readonly dialect: DialectName
  readonly raw: string
  readonly redacted: string
  /** SQLite: absolute path of the database file (or `:memory:`). */
  readonly path?: string
}

/** One SQL statement with `?` placeholders and bound values. */
export interface Statement {
  readonly sql: string
  readonly params: readonly unknown[]
  /** Where it comes from, for error messages and records. */
  readonly source?: StatementSource
}

export interface StatementSource {
  readonly revision: string
  readonly file?: string
  /** Index of the op in the migration (0-based). */
  readonly opIndex?: number
  /** Line of the statement in an SQL migration file (1-based). */
  readonly line?: number
}

/**
 * A session on the database. Drivers stay dumb: ordering, history and locking logic live in
 * the core. Errors are thrown as the client library raised them; the runner wraps them.
 */
export interface Connection {
  readonly dialect: DialectName
  execute(stmt: Statement): Promise<{ readonly rowsAffected: number }>
  query<Row = Record<string, unknown>>(stmt: Statement): Promise<Row[]>
  /**
   * Runs `fn` in a transaction: commit when it resolves, roll back when it throws. Nested calls
   * use a savepoint. On SQLite the outermost transaction runs with `foreign_keys` off and checks
   * `PRAGMA foreign_key_check` before commit (SPEC S3), so table rebuilds never cascade.
   */
  transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface ConnectOptions {
  /**
   * False for read-only commands (`status`, `history`, `plan`): a database that does not exist
   * yet is not created; an empty stand-in answers instead (nothing applied, everything pending).
   */
  readonly create?: boolean
}

/** Compile-time facts about the live schema, filled by the runner before compiling an op. */
export interface CompileContext {
  /** The current definition of a table, when the dialect asked for it in `tablesToInspect`. */
  table(name: string): TableSnapshot | undefined
}

/** One exhaustive table per dialect: a missing op is a compile error (STYLE 3.1). */
export type OpCompiler = {
  readonly [K in OpKind]: (op: OpOf<K>, ctx: CompileContext) => readonly Statement[]
}

/** Who holds the migration lock (SPEC S4). */
export interface LockOwner {
  readonly owner: string
  readonly pid: number
  readonly host: string
  readonly startedAt: string
  readonly command?: string
}

export interface LockLease {
  readonly holder: LockOwner
  release(): Promise<void>
}

export interface MigrationLock {
  /** Tries once; resolves to a lease, or to the current holder (null when unknown) when held. */
  tryAcquire(owner: LockOwner): Promise<{ lease: LockLease } | { holder: LockOwner | null }>
  /** The recorded holder, whether or not its process still lives; null when none recorded. */
  inspect(): Promise<{ holder: LockOwner | null; held: boolean }>
  /** Clears a recorded holder; `force` also ends a live holder's session. */
  clear(force: boolean): Promise<LockOwner | null>
}

export interface Dialect {
  readonly name: DialectName
  readonly capabilities: Capabilities
  readonly compiler: OpCompiler
  quoteIdentifier(name: string): string
  /**
   * Column type for the 64-bit integer keys of strata's own tables; default `bigint`. SQLite
   * uses `integer`, which makes the key the table's rowid (one B-tree instead of two).
   */
  readonly integerKeyType?: string
  /** Opens a session; lazily imports the client library. Throws E_CONNECT with a hint. */
  connect(url: DatabaseUrl, options?: ConnectOptions): Promise<Connection>
  /** The whole user schema (strata's own tables excluded). */
  introspect(conn: Connection, tablePrefix: string): Promise<SchemaSnapshot>
  /**
   * Definitions of the named tables (absent ones are left out). A dialect may return its own
   * subtype carrying what its compiler needs (SQLite adds the views and triggers that a table
   * rebuild must recreate); the runner passes the values through unchanged.
   */
  inspectTables(conn: Connection, names: readonly string[]): Promise<ReadonlyMap<string, TableSnapshot>>
  /**
   * A cheap hash of the engine's catalog for the user schema (strata's tables excluded): equal
   * whenever the schema is unchanged. It may also change for edits a snapshot ignores (such as
   * whitespace in stored SQL), so a difference is confirmed with `introspect` before reporting drift.
   */
  catalogFingerprint(conn: Connection, tablePrefix: string): Promise<string>
  /** Tables whose live definition the compiler needs to compile `op` (SQLite rebuilds). */
  tablesToInspect(op: Operation): readonly string[]
  /**
   * Statements that apply a migration's timeouts (SPEC S3, issue 3): `scope: 'transaction'` inside
   * the migration's transaction (they end with it), `'session'` around a non-transactional one,
   * with `reset` run afterwards. Absent: the engine has no such settings and timeouts are ignored.
   */
  timeoutStatements?(timeouts: { readonly lockMs?: number; readonly statementMs?: number }, scope: 'transaction' | 'session'): { readonly set: readonly Statement[]; readonly reset: readonly Statement[] }
  /**
   * The engine's own data-consistency checks (SPEC S5 preflight and postflight): SQLite
   * `integrity_check` and `foreign_key_check`, PostgreSQL invalid indexes and not-valid
   * constraints, MySQL `CHECK TABLE` where cheap. `fail` means the data is damaged.
   */
  checkConsistency(conn: Connection): Promise<{ readonly status: 'pass' | 'warn' | 'fail'; readonly message: string }>
  /** Indexes an interrupted concurrent build left unusable (PostgreSQL's `indisvalid`), by name. */
  invalidIndexes?(conn: Connection): Promise<string[]>
  /** The migration lock of this database; `tablePrefix` names strata's tables, should the lock keep one. */
  lock(url: DatabaseUrl, tablePrefix?: string): MigrationLock
  /**
   * Statements a printed script (`plan --sql`) puts around each transaction the runner opens
   * (each transactional migration; each op of a non-transactional one), standing for what
   * `Connection.transaction` does itself. SQLite: `begin` = `PRAGMA foreign_keys = OFF;`,
   * `BEGIN;` and `commit` = `PRAGMA foreign_key_check;`, `COMMIT;`, `PRAGMA foreign_keys = ON;`.
   * Absent: plain `BEGIN;` / `COMMIT;`.
   */
  readonly scriptFraming?: { readonly begin: readonly string[]; readonly commit: readonly string[] }
}
