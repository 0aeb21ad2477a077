import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterEach, beforeEach } from 'vitest'

/**
 * The engines the dialect-parameterised suites run on (STYLE 3.11). `DIALECTS=sqlite,postgres`
 * narrows a local run; CI runs them all, and an unreachable server fails the tests.
 */
export interface TestDatabase {
  /** Flags that point the CLI at this database and at `migrations/`. */
  readonly args: readonly string[]
  /** The database URL as a config file in the project folder writes it (SQLite: relative). */
  readonly url: string
  columns(table: string): Promise<string[]>
  indexes(table: string): Promise<string[]>
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>
  /** Runs a statement behind strata's back (drift tests). */
  exec(sql: string): Promise<void>
  tables(): Promise<string[]>
  drop(): Promise<void>
}

export interface TestDialect {
  readonly name: 'sqlite' | 'postgres' | 'mysql'
  /** A fresh, empty database for one test; `dir` is the project folder. */
  create(dir: string): Promise<TestDatabase>
}

const POSTGRES = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

const sqlite: TestDialect = {
  name: 'sqlite',
  async create(dir) {
    const file = join(dir, 'app.db')
    const read = <T>(sql: string, params: unknown[] = []): T[] => {
      const db = new Database(file, { readonly: true, fileMustExist: true })
      try {
        return db.prepare(sql).all(...params) as T[]
      } finally {
        db.close()
      }
    }
    return {
      args: ['--url', 'sqlite:app.db', '--migrations', 'migrations'],
      url: 'sqlite:app.db',
      columns: async (table) => read<{ name: string }>('SELECT name FROM pragma_table_info(?)', [table]).map((r) => r.name),
      indexes: async (table) => read<{ name: string }>("SELECT name FROM pragma_index_list(?) WHERE origin = 'c' ORDER BY name", [table]).map((r) => r.name),
      rows: async (sql) => read(sql),
      exec: async (sql) => {
        const db = new Database(file)
        try {
          db.exec(sql)
        } finally {
          db.close()
        }
      },
      tables: async () => read<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").map((r) => r.name),
      drop: async () => {},
    }
  },
}

const postgres: TestDialect = {
  name: 'postgres',
  async create() {
    const schema = `strata_d_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const client = new pg.Client({ connectionString: POSTGRES })
      await client.connect()
      try {
        await client.query(`SET search_path TO "${schema}"`)
        return (await client.query(sql, params)).rows as T[]
      } finally {
        await client.end()
      }
    }
    return {
      args: ['--url', `${POSTGRES}?schema=${schema}`, '--migrations', 'migrations'],
      url: `${POSTGRES}?schema=${schema}`,
      columns: async (table) => (await query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position', [schema, table])).map((r) => r.column_name),
      indexes: async (table) => (await query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE '%_pkey' ORDER BY indexname`, [schema, table])).map((r) => r.indexname),
      rows: (sql) => query(sql),
      exec: async (sql) => void (await query(sql)),
      tables: async () => (await query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name", [schema])).map((r) => r.table_name),
      drop: async () => {
        await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      },
    }
  },
}

const MYSQL = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

const mysql: TestDialect = {
  name: 'mysql',
  async create() {
    const database = `strata_d_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const { default: client } = await import('mysql2/promise')
    const run = async <T>(sql: string, params: unknown[] = [], inDatabase = true): Promise<T[]> => {
      const conn = await client.createConnection({ uri: inDatabase ? MYSQL.replace(/\/[^/]*$/, `/${database}`) : MYSQL })
      try {
        const [rows] = await conn.query(sql, params)
        return (Array.isArray(rows) ? rows : []) as T[]
      } finally {
        await conn.end()
      }
    }
    await run(`CREATE DATABASE \`${database}\``, [], false)
    return {
      args: ['--url', MYSQL.replace(/\/[^/]*$/, `/${database}`), '--migrations', 'migrations'],
      url: MYSQL.replace(/\/[^/]*$/, `/${database}`),
      columns: async (table) => (await run<{ c: string }>('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [database, table])).map((r) => r.c),
      indexes: async (table) => (await run<{ i: string }>("SELECT DISTINCT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' ORDER BY i", [database, table])).map((r) => r.i),
      rows: (sql) => run(sql),
      exec: async (sql) => void (await run(sql)),
      tables: async () => (await run<{ t: string }>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY t", [database])).map((r) => r.t),
      drop: async () => {
        await run(`DROP DATABASE IF EXISTS \`${database}\``, [], false)
      },
    }
  },
}

const ALL: readonly TestDialect[] = [sqlite, postgres, mysql]

/** One engine by name, whatever `DIALECTS` selects (tests written for that engine). */
export const DIALECT: Readonly<Record<TestDialect['name'], TestDialect>> = { sqlite, postgres, mysql }

export const DIALECTS: readonly TestDialect[] = process.env['DIALECTS']
  ? ALL.filter((d) => process.env['DIALECTS']!.split(',').includes(d.name))
  : ALL

/**
 * A fresh database of `dialect` for each test of the enclosing describe, handed to `use` before
 * the test and dropped after it. `project` is the test's project folder (see useProject).
 */
export function useTestDatabase(dialect: TestDialect, project: { readonly dir: string }, use: (db: TestDatabase) => void): void {
  let current: TestDatabase | undefined
  beforeEach(async () => {
    current = await dialect.create(project.dir)
    use(current)
  })
  afterEach(async () => {
    await current?.drop()
    current = undefined
  })
}
