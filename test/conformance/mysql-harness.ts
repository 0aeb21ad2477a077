import { runCycle } from './round-trip.js'
export { rejection } from './round-trip.js'
import { randomBytes } from 'node:crypto'
import type { CompileContext, Connection, Statement } from '../../src/dialects/dialect.js'
import { mysqlCompiler, mysqlTablesToInspect } from '../../src/dialects/mysql/mysql-compiler.js'
import { inspectMysqlTables, introspectMysql } from '../../src/dialects/mysql/mysql-introspector.js'
import type { Operation } from '../../src/ops/operation.js'
import type { SchemaSnapshot } from '../../src/schema/snapshot.js'

/**
 * Shared helpers of the MySQL conformance tests: a fresh database per test file on the server of
 * `STRATA_TEST_MYSQL_URL` (so tests run in parallel), ops compiled as the runner compiles them
 * and run statement by statement (MySQL commits DDL implicitly: no transactions around DDL).
 * Until the strata driver exists, a `mysql2/promise` connection is wrapped as a `Connection`.
 */

export const SERVER = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

export interface TempDatabase {
  readonly conn: Connection
  readonly database: string
  cleanup(): Promise<void>
}

type Raw = {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>
  end(): Promise<void>
}

function wrap(raw: Raw): Connection {
  let depth = 0
  const conn: Connection = {
    dialect: 'mysql',
    async execute(stmt: Statement) {
      const [result] = await raw.query(stmt.sql, stmt.params as unknown[])
      return { rowsAffected: (result as { affectedRows?: number }).affectedRows ?? 0 }
    },
    async query<Row>(stmt: Statement) {
      const [rows] = await raw.query(stmt.sql, stmt.params as unknown[])
      return rows as Row[]
    },
    async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
      const savepoint = depth > 0 ? `sp_${depth}` : null
      await raw.query(savepoint ? `SAVEPOINT ${savepoint}` : 'START TRANSACTION')
      depth++
      try {
        const result = await fn(conn)
        depth--
        await raw.query(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT')
        return result
      } catch (error) {
        depth--
        await raw.query(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}` : 'ROLLBACK')
        throw error
      }
    },
    async close() {
      await raw.end()
    },
  }
  return conn
}

/** A new database `strata_t_<random>`, used by the session; dropped by `cleanup`. */
export async function openDatabase(): Promise<TempDatabase> {
  const database = `strata_t_${randomBytes(6).toString('hex')}`
  const mysql = await import('mysql2/promise')
  const raw = (await mysql.createConnection(SERVER)) as unknown as Raw
  await raw.query(`CREATE DATABASE \`${database}\``)
  await raw.query(`USE \`${database}\``)
  const conn = wrap(raw)
  return {
    conn,
    database,
    async cleanup() {
      try {
        await raw.query(`DROP DATABASE IF EXISTS \`${database}\``)
      } finally {
        await raw.end()
      }
    },
  }
}

/** Compiles one op against the live schema, as the runner does. */
export async function compile(conn: Connection, op: Operation): Promise<readonly Statement[]> {
  const tables = await inspectMysqlTables(conn, mysqlTablesToInspect(op))
  const ctx: CompileContext = { table: (name) => tables.get(name) }
  const compiler = mysqlCompiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[]
  return compiler(op, ctx)
}

/** Runs ops statement by statement, each committing on its own. */
export async function apply(conn: Connection, ...ops: Operation[]): Promise<void> {
  for (const op of ops) for (const statement of await compile(conn, op)) await conn.execute(statement)
}

export async function snapshot(conn: Connection): Promise<SchemaSnapshot> {
  return introspectMysql(conn, 'strata_')
}

export async function sql<T = Record<string, unknown>>(conn: Connection, text: string, ...params: unknown[]): Promise<T[]> {
  return conn.query<T>({ sql: text, params })
}

export async function exec(conn: Connection, ...statements: string[]): Promise<void> {
  for (const text of statements) await conn.execute({ sql: text, params: [] })
}

/** up → check → down → schema equals before → up → schema equals the first `after` → check. */
export async function roundTrip(
  conn: Connection,
  cycle: { readonly up: readonly Operation[]; readonly down: readonly Operation[]; readonly check: () => Promise<void>; readonly changesSchema?: boolean },
): Promise<void> {
  await runCycle(conn, cycle, apply, snapshot)
}

