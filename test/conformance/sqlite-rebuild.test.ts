import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StrataError } from '../../src/errors/index.js'
import type { Operation } from '../../src/ops/operation.js'
import { apply, compile, dumpRows, exec, openTemp, rejection, roundTrip, snapshot, sql, type TempDb } from './sqlite-harness.js'

// The table-rebuild procedure on real files: data, dependents, foreign keys, sequences.

let db: TempDb
beforeEach(async () => {
  db = await openTemp()
})
afterEach(async () => db.cleanup())

const one = async <T>(text: string): Promise<T> => (await sql<T>(db.conn, text))[0]!
const masterSql = async (): Promise<string[]> =>
  (await sql<{ sql: string }>(db.conn, "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL ORDER BY name")).map((r) => r.sql)

describe('sqlite rebuild: data', () => {
  it('10k rows survive alterColumn (type change + nullability), and back', async () => {
    await exec(db.conn, 'CREATE TABLE items (id INTEGER PRIMARY KEY, qty TEXT, label TEXT NOT NULL)')
    await exec(db.conn, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) INSERT INTO items (qty, label) SELECT CAST(i % 97 AS TEXT), 'item ' || i FROM n")
    const before = await dumpRows(db.conn)
    const total = Array.from({ length: 10000 }, (_, i) => (i + 1) % 97).reduce((a, b) => a + b, 0)
    await roundTrip(db.conn, {
      normalize: [{ kind: 'alterColumn', table: 'items', column: 'qty', change: { type: 'TEXT' } }],
      up: [{ kind: 'alterColumn', table: 'items', column: 'qty', change: { type: 'integer', nullable: false } }],
      down: [{ kind: 'alterColumn', table: 'items', column: 'qty', change: { type: 'TEXT', nullable: true } }],
      check: async () => {
        expect(await one('SELECT count(*) AS n, sum(qty) AS total, count(DISTINCT typeof(qty)) AS types, max(id) AS top FROM items')).toEqual({
          n: 10000, total, types: 1, top: 10000,
        })
        expect(await one('SELECT typeof(qty) AS t FROM items LIMIT 1')).toEqual({ t: 'integer' })
        expect((await rejection(() => exec(db.conn, "INSERT INTO items (qty, label) VALUES (NULL, 'x')"))).message).toMatch(/NOT NULL/)
      },
    })
    await apply(db.conn, { kind: 'alterColumn', table: 'items', column: 'qty', change: { type: 'TEXT', nullable: true } })
    expect(await dumpRows(db.conn)).toEqual(before)
  })

  it('keeps the rowid of a table without an INTEGER PRIMARY KEY, and STRICT / WITHOUT ROWID options', async () => {
    await exec(
      db.conn,
      'CREATE TABLE notes (body TEXT) STRICT',
      "INSERT INTO notes (rowid, body) VALUES (10, 'a'), (20, 'b'), (35, 'c')",
      'CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID',
      "INSERT INTO kv VALUES ('x', '1'), ('y', '2')",
    )
    await apply(
      db.conn,
      { kind: 'addCheckConstraint', name: 'body_set', table: 'notes', expression: "body <> ''" },
      { kind: 'alterColumn', table: 'kv', column: 'v', change: { nullable: false } },
    )
    expect(await sql(db.conn, 'SELECT rowid AS r, body FROM notes ORDER BY rowid')).toEqual([
      { r: 10, body: 'a' }, { r: 20, body: 'b' }, { r: 35, body: 'c' },
    ])
    const tables = (await snapshot(db.conn)).tables
    expect(tables.find((t) => t.name === 'notes')?.sql).toBe('CREATE TABLE "notes" (body TEXT, CONSTRAINT "body_set" CHECK (body <> \'\')) STRICT')
    expect(tables.find((t) => t.name === 'kv')?.sql).toBe('CREATE TABLE "kv" (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID')
    expect(await sql(db.conn, 'SELECT * FROM kv ORDER BY k')).toEqual([{ k: 'x', v: '1' }, { k: 'y', v: '2' }])
  })

  it('an AUTOINCREMENT table keeps its sequence (ids are never reused)', async () => {
    await apply(db.conn, {
      kind: 'createTable',
      table: 'events',
      columns: [{ name: 'id', type: 'integer', primaryKey: true, autoIncrement: true }, { name: 'kind', type: 'text' }],
    })
    await exec(db.conn, "INSERT INTO events (kind) VALUES ('a'), ('b'), ('c'), ('d')", 'DELETE FROM events WHERE id >= 3')
    await apply(db.conn, { kind: 'alterColumn', table: 'events', column: 'kind', change: { nullable: false, default: 'none' } })
    expect(await sql(db.conn, 'SELECT name, seq FROM sqlite_sequence ORDER BY name')).toEqual([{ name: 'events', seq: 4 }])
    await exec(db.conn, 'INSERT INTO events DEFAULT VALUES')
    expect(await sql(db.conn, 'SELECT id, kind FROM events ORDER BY id')).toEqual([
      { id: 1, kind: 'a' }, { id: 2, kind: 'b' }, { id: 5, kind: 'none' },
    ])
    expect((await snapshot(db.conn)).tables[0]?.columns[0]).toEqual({ name: 'id', type: 'INTEGER', nullable: true, default: null, primaryKey: 1, autoIncrement: true })
  })

  it('an empty AUTOINCREMENT table rebuilds without a sequence row', async () => {
    await apply(db.conn, { kind: 'createTable', table: 'e', columns: [{ name: 'id', type: 'integer', primaryKey: true, autoIncrement: true }, { name: 'k', type: 'text' }] })
    await apply(db.conn, { kind: 'alterColumn', table: 'e', column: 'k', change: { type: 'varchar(5)' } })
    expect(await sql(db.conn, 'SELECT * FROM sqlite_sequence')).toEqual([])
    await exec(db.conn, "INSERT INTO e (k) VALUES ('a')")
    expect(await sql(db.conn, 'SELECT id FROM e')).toEqual([{ id: 1 }])
  })
})

describe('sqlite rebuild: dependents', () => {
  beforeEach(async () => {
    await exec(
      db.conn,
      'CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance INTEGER DEFAULT 0)',
      'CREATE TABLE audit (id INTEGER PRIMARY KEY, account_id INTEGER, what TEXT)',
      'CREATE TABLE payments (id INTEGER PRIMARY KEY, account_id INTEGER, amount INTEGER)',
      'CREATE INDEX accounts_name ON accounts (name)',
      'CREATE UNIQUE INDEX accounts_rich ON accounts (balance) WHERE balance > 1000',
      "CREATE TRIGGER accounts_audit AFTER UPDATE OF balance ON accounts BEGIN INSERT INTO audit (account_id, what) VALUES (NEW.id, 'balance'); END",
      'CREATE TRIGGER payments_apply AFTER INSERT ON payments BEGIN UPDATE accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id; END',
      'CREATE VIEW account_names AS SELECT id, name FROM accounts',
      'CREATE VIEW account_names_upper AS SELECT id, upper(name) AS name FROM account_names',
      "CREATE TRIGGER account_names_insert INSTEAD OF INSERT ON account_names BEGIN INSERT INTO accounts (name) VALUES (NEW.name); END",
      "INSERT INTO accounts (name, balance) VALUES ('ann', 10), ('bob', 2000)",
    )
  })

  it('indexes, triggers (own, on other tables, on views) and views (and views on them) survive and still work', async () => {
    const before = await masterSql()
    await roundTrip(db.conn, {
      normalize: [{ kind: 'alterColumn', table: 'accounts', column: 'balance', change: { type: 'INTEGER' } }],
      up: [{ kind: 'alterColumn', table: 'accounts', column: 'balance', change: { type: 'bigint', nullable: false } }],
      down: [{ kind: 'alterColumn', table: 'accounts', column: 'balance', change: { type: 'INTEGER', nullable: true } }],
      check: async () => {
        expect(await masterSql()).toEqual(before)
        await exec(db.conn, 'INSERT INTO payments (account_id, amount) VALUES (1, 5)', "INSERT INTO account_names (name) VALUES ('cy')")
        expect(await sql(db.conn, 'SELECT id, balance FROM accounts ORDER BY id')).toEqual([{ id: 1, balance: 15 }, { id: 2, balance: 2000 }, { id: 3, balance: 0 }])
        expect(await sql(db.conn, 'SELECT account_id, what FROM audit')).toEqual([{ account_id: 1, what: 'balance' }])
        expect(await sql(db.conn, 'SELECT name FROM account_names_upper ORDER BY id')).toEqual([{ name: 'ANN' }, { name: 'BOB' }, { name: 'CY' }])
        const plan = await sql<{ detail: string }>(db.conn, "EXPLAIN QUERY PLAN SELECT id FROM accounts WHERE name = 'ann'")
        expect(plan.map((p) => p.detail).join()).toMatch(/accounts_name/)
        expect((await rejection(() => exec(db.conn, 'UPDATE accounts SET balance = 2000 WHERE id = 1'))).message).toMatch(/UNIQUE/)
        await exec(db.conn, 'DELETE FROM audit', 'DELETE FROM payments', 'DELETE FROM accounts WHERE id = 3', 'UPDATE accounts SET balance = 10 WHERE id = 1', 'DELETE FROM audit')
      },
    })
  })

  it('renaming a column in a rebuild batch lets SQLite rewrite the index, trigger and view text', async () => {
    await apply(db.conn, {
      kind: 'batchAlterTable',
      table: 'accounts',
      ops: [
        { kind: 'renameColumn', table: 'accounts', from: 'balance', to: 'cents' },
        { kind: 'alterColumn', table: 'accounts', column: 'cents', change: { nullable: false } },
      ],
    })
    const text = (await masterSql()).join('\n')
    expect(text).toContain('ON accounts ("cents") WHERE "cents" > 1000')
    expect(text).toContain('SET "cents" = "cents" + NEW.amount')
    await exec(db.conn, 'INSERT INTO payments (account_id, amount) VALUES (1, 1)')
    expect(await one('SELECT cents FROM accounts WHERE id = 1')).toEqual({ cents: 11 })
  })

  it('a rebuild that drops a column a view still uses fails and changes nothing', async () => {
    const before = await snapshot(db.conn)
    const rows = await dumpRows(db.conn)
    const op: Operation = { kind: 'batchAlterTable', table: 'accounts', ops: [
      { kind: 'dropColumn', table: 'accounts', column: 'name' },
      { kind: 'addCheckConstraint', table: 'accounts', name: 'b', expression: 'balance >= 0' },
    ] }
    const error = await rejection(() => apply(db.conn, op))
    expect(error.message).toMatch(/error in (view|trigger) .*no such column: .*name/)
    expect(await snapshot(db.conn)).toEqual(before)
    expect(await dumpRows(db.conn)).toEqual(rows)
  })

  it('a child with ON DELETE CASCADE keeps all its rows when the parent is rebuilt (foreign_keys on before and after)', async () => {
    await exec(
      db.conn,
      'PRAGMA foreign_keys = ON',
      'CREATE TABLE entries (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE, memo TEXT)',
      "INSERT INTO entries (account_id, memo) VALUES (1, 'a'), (1, 'b'), (2, 'c')",
    )
    await apply(db.conn, { kind: 'alterColumn', table: 'accounts', column: 'name', change: { type: 'varchar(40)' } })
    await apply(db.conn, { kind: 'addColumn', table: 'accounts', column: { name: 'code', type: 'text', unique: true } })
    await apply(db.conn, { kind: 'dropColumn', table: 'accounts', column: 'code' })
    // `balance` is named by the payments_apply trigger: dropping it must fail, not break the trigger.
    const error = await rejection(() => apply(db.conn, { kind: 'dropColumn', table: 'accounts', column: 'balance' }))
    expect(error.message).toBe('error in trigger payments_apply: no such column: balance')
    expect(await one('SELECT count(*) AS n FROM entries')).toEqual({ n: 3 })
    expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
    await exec(db.conn, 'DELETE FROM accounts WHERE id = 1')
    expect(await sql(db.conn, 'SELECT memo FROM entries')).toEqual([{ memo: 'c' }])
  })
})

describe('sqlite rebuild: foreign keys and constraints', () => {
  beforeEach(async () => {
    await exec(
      db.conn,
      'PRAGMA foreign_keys = ON',
      'CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)',
      'CREATE TABLE players (id INTEGER PRIMARY KEY, team_id INTEGER, name TEXT, number INTEGER)',
      "INSERT INTO teams (name) VALUES ('red'), ('blue')",
      "INSERT INTO players (team_id, name, number) VALUES (1, 'p1', 7), (2, 'p2', 9), (5, 'p3', 7)",
    )
  })

  it('foreign_key_check failure (an FK existing rows violate) rolls back: schema and rows as before', async () => {
    const before = await snapshot(db.conn)
    const rows = await dumpRows(db.conn)
    const error = await rejection(() =>
      apply(db.conn, { kind: 'addForeignKey', name: 'players_team_fk', table: 'players', columns: ['team_id'], refTable: 'teams', refColumns: ['id'] }),
    )
    expect(error).toBeInstanceOf(StrataError)
    expect(error.code).toBe('E_MIGRATION_FAILED')
    expect(error.message).toBe('foreign key check failed, nothing was committed: `players` rowid 3 → `teams` (rows whose parent row does not exist)')
    expect(error.details?.violations).toEqual([{ table: 'players', rowid: 3, parent: 'teams', fkid: 0 }])
    expect(await snapshot(db.conn)).toEqual(before)
    expect(await dumpRows(db.conn)).toEqual(rows)
    expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
  })

  it('named unique, check and FK constraints: added, enforced, dropped one by one', async () => {
    await exec(db.conn, 'DELETE FROM players WHERE id = 3')
    const table = async () => (await snapshot(db.conn)).tables.find((t) => t.name === 'players')!
    await apply(db.conn, { kind: 'alterColumn', table: 'players', column: 'name', change: { type: 'TEXT' } }) // quotes the table name once
    const initial = await table()
    const add: Operation[] = [
      { kind: 'addUniqueConstraint', name: 'players_team_number', table: 'players', columns: ['team_id', 'number'] },
      { kind: 'addCheckConstraint', name: 'players_number_range', table: 'players', expression: 'number BETWEEN 0 AND 99' },
      { kind: 'addForeignKey', name: 'players_team_fk', table: 'players', columns: ['team_id'], refTable: 'teams', refColumns: ['id'], onDelete: 'CASCADE' },
    ]
    for (const op of add) await apply(db.conn, op)
    expect((await table()).sql).toBe(
      'CREATE TABLE "players" (id INTEGER PRIMARY KEY, team_id INTEGER, name TEXT, number INTEGER, ' +
        'CONSTRAINT "players_team_number" UNIQUE ("team_id", "number"), ' +
        'CONSTRAINT "players_number_range" CHECK (number BETWEEN 0 AND 99), ' +
        'CONSTRAINT "players_team_fk" FOREIGN KEY ("team_id") REFERENCES "teams" ("id") ON DELETE CASCADE)',
    )
    const fails = async (statement: string, pattern: RegExp) => expect((await rejection(() => exec(db.conn, statement))).message).toMatch(pattern)
    await fails("INSERT INTO players (team_id, name, number) VALUES (1, 'dup', 7)", /UNIQUE constraint failed/)
    await fails("INSERT INTO players (team_id, name, number) VALUES (1, 'big', 100)", /CHECK constraint failed: players_number_range/)
    await fails("INSERT INTO players (team_id, name, number) VALUES (9, 'orphan', 1)", /FOREIGN KEY constraint failed/)
    await exec(db.conn, 'DELETE FROM teams WHERE id = 2')
    expect(await sql(db.conn, 'SELECT name FROM players')).toEqual([{ name: 'p1' }])
    for (const op of [...add].reverse()) await apply(db.conn, { kind: 'dropConstraint', name: (op as { name: string }).name, table: 'players' })
    expect(await table()).toEqual(initial)
    await exec(db.conn, "INSERT INTO players (team_id, name, number) VALUES (9, 'free', 100), (1, 'dup', 7)")
  })

  it('a column-level named constraint can be dropped; unnamed ones stay', async () => {
    await exec(db.conn, "CREATE TABLE t (a INTEGER CONSTRAINT a_pos CHECK (a > 0) NOT NULL, b TEXT CHECK (b <> ''))")
    await apply(db.conn, { kind: 'dropConstraint', name: 'a_pos', table: 't' })
    const t = (await snapshot(db.conn)).tables.find((x) => x.name === 't')!
    expect(t.sql).toBe('CREATE TABLE "t" (a INTEGER NOT NULL, b TEXT CHECK (b <> \'\'))')
    expect(t.constraints).toEqual([{ name: null, kind: 'check', columns: ['b'], expression: "b <> ''" }])
  })
})

describe('sqlite rebuild: awkward tables', () => {
  it('quoted names, a self-referencing cascade, generated columns, and the table named in another case', async () => {
    await exec(
      db.conn,
      'PRAGMA foreign_keys = ON',
      `CREATE TABLE [we"ird table] (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES [we"ird table](id) ON DELETE CASCADE, "sp ace" INTEGER, twice AS ("sp ace" * 2) VIRTUAL, st AS ("sp ace" + 1) STORED)`,
      'INSERT INTO [we"ird table] (id, parent_id, "sp ace") VALUES (1, NULL, 5), (2, 1, 6), (3, 2, 7)',
    )
    await apply(db.conn, { kind: 'alterColumn', table: 'WE"IRD TABLE', column: 'SP ACE', change: { type: 'real' } })
    expect(await sql(db.conn, 'SELECT id, parent_id, "sp ace" AS s, twice, st FROM [we"ird table] ORDER BY id')).toEqual([
      { id: 1, parent_id: null, s: 5, twice: 10, st: 6 },
      { id: 2, parent_id: 1, s: 6, twice: 12, st: 7 },
      { id: 3, parent_id: 2, s: 7, twice: 14, st: 8 },
    ])
    await apply(
      db.conn,
      { kind: 'dropColumn', table: 'we"ird table', column: 'twice' },
      { kind: 'batchAlterTable', table: 'we"ird table', ops: [
        { kind: 'renameColumn', table: 'we"ird table', from: 'sp ace', to: 'space' },
        { kind: 'addCheckConstraint', table: 'we"ird table', name: 'c"k', expression: 'space > 0' },
      ] },
    )
    expect((await snapshot(db.conn)).tables[0]?.sql).toBe(
      'CREATE TABLE "we""ird table" (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES [we"ird table](id) ON DELETE CASCADE, ' +
        '"space" REAL, st AS ("space" + 1) STORED, CONSTRAINT "c""k" CHECK ("space" > 0))',
    )
    await exec(db.conn, 'DELETE FROM [we"ird table] WHERE id = 2')
    expect(await sql(db.conn, 'SELECT id FROM [we"ird table]')).toEqual([{ id: 1 }])
  })
})

describe('sqlite rebuild: statements', () => {
  it('follows the manual: create new, copy, drop, rename, recreate', async () => {
    await exec(db.conn, 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)', 'CREATE INDEX t_v ON t (v)', 'CREATE VIEW tv AS SELECT v FROM t')
    const statements = await compile(db.conn, { kind: 'alterColumn', table: 't', column: 'v', change: { nullable: false } })
    expect(statements.map((s) => s.sql)).toEqual([
      'DROP VIEW "tv"',
      'CREATE TABLE "_strata_new_t" (id INTEGER PRIMARY KEY, v TEXT NOT NULL)',
      'INSERT INTO "_strata_new_t" ("id", "v") SELECT "id", "v" FROM "t"',
      'DROP TABLE "t"',
      'ALTER TABLE "_strata_new_t" RENAME TO "t"',
      'CREATE INDEX t_v ON t (v)',
      'CREATE VIEW tv AS SELECT v FROM t',
    ])
  })
})
