import { runCycle } from './round-trip.js'
export { rejection } from './round-trip.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CompileContext, Connection, Statement } from '../../src/dialects/dialect.js'
import { sqliteDialect } from '../../src/dialects/sqlite/sqlite-dialect.js'
import type { Operation } from '../../src/ops/operation.js'
import type { SchemaSnapshot } from '../../src/schema/snapshot.js'

/** Shared helpers of the SQLite conformance tests: a fresh database FILE per test, ops run as the runner runs them. */

export interface TempDb {
  readonly conn: Connection
  readonly path: string
  readonly dir: string
  cleanup(): Promise<void>
}

/** A new database file in its own temp folder. */
export async function openTemp(): Promise<TempDb> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-'))
  const path = join(dir, 'test.db')
  const conn = await sqliteDialect.connect({ dialect: 'sqlite', raw: `sqlite:${path}`, redacted: `sqlite:${path}`, path })
  return {
    conn,
    path,
    dir,
    async cleanup() {
      await conn.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Compiles one op against the live schema, as the runner does. */
export async function compile(conn: Connection, op: Operation): Promise<readonly Statement[]> {
  const tables = await sqliteDialect.inspectTables(conn, sqliteDialect.tablesToInspect(op))
  const ctx: CompileContext = { table: (name) => tables.get(name) }
  const compiler = sqliteDialect.compiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[]
  return compiler(op, ctx)
}

/** Runs ops in one transaction through the driver (foreign_keys off, foreign_key_check before commit). */
export async function apply(conn: Connection, ...ops: Operation[]): Promise<void> {
  await conn.transaction(async (tx) => {
    for (const op of ops) for (const statement of await compile(tx, op)) await tx.execute(statement)
  })
}

export async function snapshot(conn: Connection): Promise<SchemaSnapshot> {
  return sqliteDialect.introspect(conn, 'strata_')
}

export async function sql<T = Record<string, unknown>>(conn: Connection, text: string, ...params: unknown[]): Promise<T[]> {
  return conn.query<T>({ sql: text, params })
}

export async function exec(conn: Connection, ...statements: string[]): Promise<void> {
  for (const text of statements) await conn.execute({ sql: text, params: [] })
}

/** Every user table's rows, in rowid order: to compare data before and after. */
export async function dumpRows(conn: Connection): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const t of (await snapshot(conn)).tables) {
    out[t.name] = await sql(conn, `SELECT * FROM "${t.name}"${t.sql?.includes('WITHOUT ROWID') ? '' : ' ORDER BY rowid'}`)
  }
  return out
}

/**
 * The conformance cycle (STYLE 3.11): up → check → down → schema equals before → up → check.
 */
export async function roundTrip(
  conn: Connection,
  cycle: {
    readonly up: readonly Operation[]
    readonly down: readonly Operation[]
    readonly check: () => Promise<void>
    /** False for data-only ops (execute). */
    readonly changesSchema?: boolean
    /**
     * A table written by hand (`CREATE TABLE t (`) comes back from its first rebuild as
     * `CREATE TABLE "t" (`: SQLite's RENAME always quotes the name. Start from that form.
     */
    readonly normalize?: readonly Operation[]
  },
): Promise<void> {
  if (cycle.normalize) await apply(conn, ...cycle.normalize)
  await runCycle(conn, cycle, apply, snapshot)
}

