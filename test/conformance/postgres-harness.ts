import { runCycle } from './round-trip.js'
export { rejection } from './round-trip.js'
import { randomBytes } from 'node:crypto'
import type { CompileContext, Connection, DatabaseUrl, Statement } from '../../src/dialects/dialect.js'
import { postgresCompiler, postgresTablesToInspect } from '../../src/dialects/postgres/postgres-compiler.js'
import { openPostgres } from '../../src/dialects/postgres/postgres-driver.js'
import { inspectPostgresTables, introspectPostgres } from '../../src/dialects/postgres/postgres-introspector.js'
import type { Operation } from '../../src/ops/operation.js'
import type { SchemaSnapshot } from '../../src/schema/snapshot.js'

/**
 * Shared helpers of the PostgreSQL conformance tests: a fresh schema per test on the server of
 * `STRATA_TEST_POSTGRES_URL` (so tests run in parallel), ops compiled and run as the runner
 * runs them, through the real driver.
 */

export const SERVER = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TempSchema {
  readonly conn: Connection
  readonly schema: string
  readonly url: DatabaseUrl
  cleanup(): Promise<void>
}

/** A new schema `strata_t_<random>`, first on the session's search_path; dropped by `cleanup`. */
export async function openSchema(): Promise<TempSchema> {
  const schema = `strata_t_${randomBytes(6).toString('hex')}`
  const raw = `${SERVER}${SERVER.includes('?') ? '&' : '?'}schema=${schema}`
  const url: DatabaseUrl = { dialect: 'postgres', raw, redacted: raw }
  const conn = await openPostgres(url)
  return {
    conn,
    schema,
    url,
    async cleanup() {
      try {
        await conn.execute({ sql: `DROP SCHEMA IF EXISTS "${schema}" CASCADE`, params: [] })
      } finally {
        await conn.close()
      }
    },
  }
}

/** Compiles one op against the live schema, as the runner does. */
export async function compile(conn: Connection, op: Operation): Promise<readonly Statement[]> {
  const tables = await inspectPostgresTables(conn, postgresTablesToInspect(op))
  const ctx: CompileContext = { table: (name) => tables.get(name) }
  const compiler = postgresCompiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[]
  return compiler(op, ctx)
}

/** Runs ops in one transaction. */
export async function apply(conn: Connection, ...ops: Operation[]): Promise<void> {
  await conn.transaction(async (tx) => {
    for (const op of ops) for (const statement of await compile(tx, op)) await tx.execute(statement)
  })
}

/** Runs ops outside any transaction (CONCURRENTLY), each statement committing on its own. */
export async function applyOutside(conn: Connection, ...ops: Operation[]): Promise<void> {
  for (const op of ops) for (const statement of await compile(conn, op)) await conn.execute(statement)
}

export async function snapshot(conn: Connection): Promise<SchemaSnapshot> {
  return introspectPostgres(conn, 'strata_')
}

export async function sql<T = Record<string, unknown>>(conn: Connection, text: string, ...params: unknown[]): Promise<T[]> {
  return conn.query<T>({ sql: text, params })
}

export async function exec(conn: Connection, ...statements: string[]): Promise<void> {
  for (const text of statements) await conn.execute({ sql: text, params: [] })
}

/**
 * The conformance cycle (STYLE 3.11): up → check → down → schema equals before → up → schema
 * equals the first `after` → check. `run` applies a list of ops (default: in one transaction).
 */
export async function roundTrip(
  conn: Connection,
  cycle: {
    readonly up: readonly Operation[]
    readonly down: readonly Operation[]
    readonly check: () => Promise<void>
    /** False for data-only ops (execute). */
    readonly changesSchema?: boolean
    readonly run?: (conn: Connection, ...ops: Operation[]) => Promise<void>
  },
): Promise<void> {
  await runCycle(conn, cycle, cycle.run ?? apply, snapshot)
}

