import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ColumnDef, Operation } from '../../src/ops/operation.js'
import { apply, exec, openTemp, rejection, roundTrip, snapshot, sql, type TempDb } from './sqlite-harness.js'

// Every op on a real SQLite file: up → check schema and rows → hand-written inverse → schema as
// before → up again.

let db: TempDb
const users: readonly ColumnDef[] = [
  { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
  { name: 'email', type: 'varchar(120)', nullable: false },
  { name: 'age', type: 'integer', default: 0 },
  { name: 'nickname', type: 'text' },
]

beforeEach(async () => {
  db = await openTemp()
  await apply(db.conn, { kind: 'createTable', table: 'users', columns: users })
  await exec(db.conn, "INSERT INTO users (email, age, nickname) VALUES ('a@x', 30, 'a'), ('b@x', 40, NULL), ('c@x', 50, 'c')")
})
afterEach(async () => db.cleanup())

const table = async (name: string) => (await snapshot(db.conn)).tables.find((t) => t.name === name)
const column = async (t: string, c: string) => (await table(t))?.columns.find((x) => x.name === c)
const count = async (t: string) => (await sql<{ n: number }>(db.conn, `SELECT count(*) AS n FROM "${t}"`))[0]!.n

describe('sqlite ops: tables', () => {
  it('createTable: types, defaults of every kind, composite key, unique, references ↔ dropTable', async () => {
    const create: Operation = {
      kind: 'createTable',
      table: 'memberships',
      primaryKey: ['user_id', 'org'],
      columns: [
        { name: 'user_id', type: 'bigint', references: { table: 'users', column: 'id', onDelete: 'cascade', onUpdate: 'no action' } },
        { name: 'org', type: 'uuid' },
        { name: 'role', type: 'varchar(20)', nullable: false, default: "o'wner" },
        { name: 'meta', type: 'json', default: '{}' },
        { name: 'active', type: 'boolean', default: true },
        { name: 'score', type: 'numeric(10,2)', default: 1.5 },
        { name: 'big', type: 'bigint', default: 9007199254740993n },
        { name: 'avatar', type: 'blob', default: new Uint8Array([0xde, 0xad]) },
        { name: 'joined', type: 'timestamp', default: { sql: 'CURRENT_TIMESTAMP' } },
        { name: 'day', type: 'date' },
        { name: 'ratio', type: 'real', unique: true },
        { name: 'note', type: 'text', default: null },
        { name: 'geo', type: 'POINT' },
      ],
    }
    await roundTrip(db.conn, {
      up: [create],
      down: [{ kind: 'dropTable', table: 'memberships' }],
      check: async () => {
        const t = await table('memberships')
        expect(t?.columns.map((c) => [c.name, c.type, c.nullable, c.default, c.primaryKey])).toEqual([
          ['user_id', 'INTEGER', false, null, 1],
          ['org', 'TEXT', false, null, 2],
          ['role', 'VARCHAR(20)', false, "'o''wner'", 0],
          ['meta', 'TEXT', true, "'{}'", 0],
          ['active', 'BOOLEAN', true, '1', 0],
          ['score', 'NUMERIC(10,2)', true, '1.5', 0],
          ['big', 'INTEGER', true, '9007199254740993', 0],
          ['avatar', 'BLOB', true, "X'dead'", 0],
          ['joined', 'TIMESTAMP', true, 'CURRENT_TIMESTAMP', 0], // SQLite reports DEFAULT (CURRENT_TIMESTAMP) bare
          ['day', 'DATE', true, null, 0],
          ['ratio', 'REAL', true, null, 0],
          ['note', 'TEXT', true, 'NULL', 0],
          ['geo', 'POINT', true, null, 0],
        ])
        expect(t?.constraints).toEqual([
          { name: null, kind: 'foreignKey', columns: ['user_id'], refTable: 'users', refColumns: ['id'], onDelete: 'CASCADE' },
          { name: null, kind: 'primaryKey', columns: ['user_id', 'org'] },
          { name: null, kind: 'unique', columns: ['ratio'] },
        ])
        await exec(db.conn, "INSERT INTO memberships (user_id, org, meta) VALUES (1, 'o1', '1')")
        const [row] = await sql<Record<string, unknown>>(db.conn, 'SELECT role, typeof(meta) AS meta, active, big, hex(avatar) AS avatar FROM memberships')
        // json keeps TEXT affinity: '1' stays the string '1'.
        expect(row).toEqual({ role: "o'wner", meta: 'text', active: 1, big: 9007199254740993, avatar: 'DEAD' })
        await exec(db.conn, 'DELETE FROM memberships')
      },
    })
  })

  it('createTable ifNotExists is idempotent; dropTable ifExists tolerates absence', async () => {
    const op: Operation = { kind: 'createTable', table: 'users', columns: [{ name: 'x', type: 'text' }], ifNotExists: true }
    const before = await snapshot(db.conn)
    await apply(db.conn, op)
    expect(await snapshot(db.conn)).toEqual(before)
    await apply(db.conn, { kind: 'dropTable', table: 'nothing_here', ifExists: true })
    expect(await snapshot(db.conn)).toEqual(before)
  })

  it('dropTable ↔ createTable', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'dropTable', table: 'users' }],
      down: [{ kind: 'createTable', table: 'users', columns: users }],
      check: async () => expect(await table('users')).toBeUndefined(),
    })
  })

  it('renameTable ↔ renameTable back; rows move with it', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'renameTable', from: 'users', to: 'people' }],
      down: [{ kind: 'renameTable', from: 'people', to: 'users' }],
      check: async () => {
        expect(await table('users')).toBeUndefined()
        expect(await count('people')).toBe(3)
      },
    })
  })
})

describe('sqlite ops: columns', () => {
  it('addColumn (native: default fills existing rows) ↔ dropColumn', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addColumn', table: 'users', column: { name: 'plan', type: 'text', nullable: false, default: 'free' } }],
      down: [{ kind: 'dropColumn', table: 'users', column: 'plan' }],
      check: async () => {
        expect(await column('users', 'plan')).toEqual({ name: 'plan', type: 'TEXT', nullable: false, default: "'free'", primaryKey: 0 })
        expect(await sql(db.conn, 'SELECT DISTINCT plan FROM users')).toEqual([{ plan: 'free' }])
      },
    })
  })

  it('addColumn (rebuild: unique, expression default) ↔ dropColumn (rebuild)', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addColumn', table: 'users', column: { name: 'handle', type: 'text', unique: true, default: { sql: "'h' || random()" } } }],
      down: [{ kind: 'dropColumn', table: 'users', column: 'handle' }],
      check: async () => {
        expect((await table('users'))?.constraints).toContainEqual({ name: null, kind: 'unique', columns: ['handle'] })
        expect(await sql(db.conn, 'SELECT count(DISTINCT handle) AS n FROM users')).toEqual([{ n: 3 }])
        const error = await rejection(() => exec(db.conn, "UPDATE users SET handle = 'same'"))
        expect(error.message).toMatch(/UNIQUE constraint failed: users.handle/)
      },
    })
  })

  it('addColumn NOT NULL without default rebuilds, and fails on existing rows without changing anything', async () => {
    const before = await snapshot(db.conn)
    const error = await rejection(() => apply(db.conn, { kind: 'addColumn', table: 'users', column: { name: 'req', type: 'text', nullable: false } }))
    expect(error.message).toMatch(/NOT NULL constraint failed/)
    expect(await snapshot(db.conn)).toEqual(before)
    expect(await count('users')).toBe(3)
  })

  it('dropColumn (native, unreferenced column) ↔ addColumn', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'dropColumn', table: 'users', column: 'nickname' }],
      down: [{ kind: 'addColumn', table: 'users', column: { name: 'nickname', type: 'text' } }],
      check: async () => expect(await column('users', 'nickname')).toBeUndefined(),
    })
  })

  it('dropColumn of an indexed column (rebuild; its index goes with it) ↔ addColumn + createIndex', async () => {
    await apply(db.conn, { kind: 'createIndex', name: 'users_nickname', table: 'users', columns: ['nickname'] })
    await apply(db.conn, { kind: 'createIndex', name: 'users_email', table: 'users', columns: ['email'] })
    await roundTrip(db.conn, {
      up: [{ kind: 'dropColumn', table: 'users', column: 'nickname' }],
      down: [
        { kind: 'addColumn', table: 'users', column: { name: 'nickname', type: 'text' } },
        { kind: 'createIndex', name: 'users_nickname', table: 'users', columns: ['nickname'] },
      ],
      check: async () => {
        const t = await table('users')
        expect(t?.columns.map((c) => c.name)).toEqual(['id', 'email', 'age'])
        expect(t?.indexes.map((i) => i.name)).toEqual(['users_email'])
        expect(await count('users')).toBe(3)
      },
    })
  })

  it('renameColumn ↔ renameColumn back; indexes follow', async () => {
    // RENAME COLUMN rewrites a bare `age` in index text as `"age"`; written quoted, the text round-trips exactly.
    await apply(db.conn, { kind: 'createIndex', name: 'users_age', table: 'users', columns: ['age'], where: '"age" > 18' })
    await roundTrip(db.conn, {
      up: [{ kind: 'renameColumn', table: 'users', from: 'age', to: 'years' }],
      down: [{ kind: 'renameColumn', table: 'users', from: 'years', to: 'age' }],
      check: async () => {
        const t = await table('users')
        expect(t?.columns.map((c) => c.name)).toEqual(['id', 'email', 'years', 'nickname'])
        expect(t?.indexes).toEqual([expect.objectContaining({ name: 'users_age', columns: ['years'], where: '"years" > 18' })])
      },
    })
  })

  it('alterColumn type, nullability and default (rebuild) ↔ alterColumn back', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'text', nullable: false, default: 'n/a' } }],
      down: [{ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'integer', nullable: true, default: 0 } }],
      check: async () => {
        expect(await column('users', 'age')).toEqual({ name: 'age', type: 'TEXT', nullable: false, default: "'n/a'", primaryKey: 0 })
        expect(await sql(db.conn, 'SELECT age, typeof(age) AS t FROM users ORDER BY id')).toEqual([
          { age: '30', t: 'text' },
          { age: '40', t: 'text' },
          { age: '50', t: 'text' },
        ])
        expect((await rejection(() => exec(db.conn, "INSERT INTO users (email, age) VALUES ('z', NULL)"))).message).toMatch(/NOT NULL/)
      },
    })
  })

  it('alterColumn using: the copy converts with the expression', async () => {
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'nickname', change: { using: "upper(coalesce(nickname, 'none'))" } })
    expect(await sql(db.conn, 'SELECT nickname FROM users ORDER BY id')).toEqual([{ nickname: 'A' }, { nickname: 'NONE' }, { nickname: 'C' }])
  })
})

describe('sqlite ops: indexes', () => {
  it('createIndex unique + partial ↔ dropIndex; enforced', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'createIndex', name: 'users_email_adult', table: 'users', columns: ['email', 'age'], unique: true, where: 'age >= 18', concurrently: true }],
      down: [{ kind: 'dropIndex', name: 'users_email_adult', table: 'users' }],
      check: async () => {
        expect((await table('users'))?.indexes).toEqual([
          {
            name: 'users_email_adult',
            columns: ['email', 'age'],
            unique: true,
            where: 'age >= 18',
            sql: 'CREATE UNIQUE INDEX "users_email_adult" ON "users" ("email", "age") WHERE age >= 18',
          },
        ])
        await exec(db.conn, "INSERT INTO users (email, age) VALUES ('a@x', 30 - 25)") // outside the predicate
        expect((await rejection(() => exec(db.conn, "INSERT INTO users (email, age) VALUES ('a@x', 30)"))).message).toMatch(/UNIQUE/)
        await exec(db.conn, 'DELETE FROM users WHERE id > 3')
      },
    })
  })

  it('createIndex ifNotExists twice; dropIndex ifExists of a missing index', async () => {
    const op: Operation = { kind: 'createIndex', name: 'i_age', table: 'users', columns: ['age'], ifNotExists: true }
    await apply(db.conn, op, op)
    await roundTrip(db.conn, {
      up: [{ kind: 'dropIndex', name: 'i_age', ifExists: true }, { kind: 'dropIndex', name: 'i_age', ifExists: true }],
      down: [op],
      check: async () => expect((await table('users'))?.indexes).toEqual([]),
    })
  })
})

describe('sqlite ops: constraints', () => {
  beforeEach(async () => exec(db.conn, 'PRAGMA foreign_keys = ON'))

  it('addUniqueConstraint ↔ dropConstraint; enforced', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addUniqueConstraint', name: 'users_email_key', table: 'users', columns: ['email'] }],
      down: [{ kind: 'dropConstraint', name: 'users_email_key', table: 'users' }],
      check: async () => {
        const t = await table('users')
        expect(t?.constraints).toContainEqual({ name: 'users_email_key', kind: 'unique', columns: ['email'] })
        expect(t?.sql).toContain('CONSTRAINT "users_email_key" UNIQUE ("email")')
        expect((await rejection(() => exec(db.conn, "INSERT INTO users (email) VALUES ('a@x')"))).message).toMatch(/UNIQUE constraint failed/)
      },
    })
  })

  it('addCheckConstraint ↔ dropConstraint; enforced', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addCheckConstraint', name: 'age_positive', table: 'users', expression: 'age >= 0' }],
      down: [{ kind: 'dropConstraint', name: 'age_positive', table: 'users' }],
      check: async () => {
        expect((await table('users'))?.constraints).toContainEqual({ name: 'age_positive', kind: 'check', columns: [], expression: 'age >= 0' })
        expect((await rejection(() => exec(db.conn, "INSERT INTO users (email, age) VALUES ('n', -1)"))).message).toMatch(/CHECK constraint failed: age_positive/)
      },
    })
  })

  it('addForeignKey ↔ dropConstraint; enforced', async () => {
    await apply(db.conn, { kind: 'createTable', table: 'posts', columns: [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'author', type: 'integer' }] })
    await exec(db.conn, 'INSERT INTO posts (author) VALUES (1), (2), (NULL)')
    await roundTrip(db.conn, {
      up: [{ kind: 'addForeignKey', name: 'posts_author_fk', table: 'posts', columns: ['author'], refTable: 'users', refColumns: ['id'], onDelete: 'set null' }],
      down: [{ kind: 'dropConstraint', name: 'posts_author_fk', table: 'posts' }],
      check: async () => {
        expect((await table('posts'))?.constraints).toContainEqual({
          name: 'posts_author_fk', kind: 'foreignKey', columns: ['author'], refTable: 'users', refColumns: ['id'], onDelete: 'SET NULL',
        })
        expect((await rejection(() => exec(db.conn, 'INSERT INTO posts (author) VALUES (99)'))).message).toMatch(/FOREIGN KEY constraint failed/)
        expect(await count('posts')).toBe(3)
      },
    })
    expect(await sql(db.conn, 'PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])
  })

  it('dropConstraint ↔ addCheckConstraint', async () => {
    await apply(db.conn, { kind: 'addCheckConstraint', name: 'email_has_at', table: 'users', expression: "email LIKE '%@%'" })
    await roundTrip(db.conn, {
      up: [{ kind: 'dropConstraint', name: 'email_has_at', table: 'users' }],
      down: [{ kind: 'addCheckConstraint', name: 'email_has_at', table: 'users', expression: "email LIKE '%@%'" }],
      check: async () => exec(db.conn, "INSERT INTO users (email) VALUES ('no-at')", "DELETE FROM users WHERE email = 'no-at'"),
    })
  })

  it('dropConstraint of an unknown name fails with E_MIGRATION_FAILED and changes nothing', async () => {
    const before = await snapshot(db.conn)
    const error = await rejection(() => apply(db.conn, { kind: 'dropConstraint', name: 'nope', table: 'users' }))
    expect(error.code).toBe('E_MIGRATION_FAILED')
    expect(error.message).toBe('constraint `nope` does not exist on table `users`')
    expect(await snapshot(db.conn)).toEqual(before)
  })

  it('ops on a missing table fail with E_MIGRATION_FAILED naming it', async () => {
    const error = await rejection(() => apply(db.conn, { kind: 'alterColumn', table: 'ghosts', column: 'x', change: { nullable: true } }))
    expect(error.code).toBe('E_MIGRATION_FAILED')
    expect(error.message).toBe('table `ghosts` does not exist')
  })
})

describe('sqlite ops: execute and batches', () => {
  it('execute binds ?, booleans and bytes ↔ execute delete', async () => {
    await roundTrip(db.conn, {
      changesSchema: false,
      up: [{ kind: 'execute', sql: 'INSERT INTO users (email, age, nickname) VALUES (?, ?, ?)', params: ['d@x', true, new Uint8Array([1, 2])] }],
      down: [{ kind: 'execute', sql: 'DELETE FROM users WHERE email = ?', params: ['d@x'] }],
      check: async () =>
        expect(await sql(db.conn, "SELECT age, hex(nickname) AS n FROM users WHERE email = 'd@x'")).toEqual([{ age: 1, n: '0102' }]),
    })
  })

  it('batchAlterTable, all native (add, rename, index) ↔ inverse batch', async () => {
    await roundTrip(db.conn, {
      up: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'addColumn', table: 'users', column: { name: 'city', type: 'text' } },
          { kind: 'renameColumn', table: 'users', from: 'nickname', to: 'alias' },
          { kind: 'createIndex', table: 'users', name: 'users_city', columns: ['city', 'alias'] },
        ],
      }],
      down: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'dropIndex', table: 'users', name: 'users_city' },
          { kind: 'renameColumn', table: 'users', from: 'alias', to: 'nickname' },
          { kind: 'dropColumn', table: 'users', column: 'city' },
        ],
      }],
      check: async () => {
        const t = await table('users')
        expect(t?.columns.map((c) => c.name)).toEqual(['id', 'email', 'age', 'alias', 'city'])
        expect(t?.indexes.map((i) => [i.name, i.columns])).toEqual([['users_city', ['city', 'alias']]])
      },
    })
  })

  it('batchAlterTable with a rebuild: one rebuild, renames after it, expressions in new names', async () => {
    await apply(db.conn, { kind: 'createIndex', name: 'users_age', table: 'users', columns: ['age'] })
    await roundTrip(db.conn, {
      up: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'renameColumn', table: 'users', from: 'age', to: 'years' },
          { kind: 'alterColumn', table: 'users', column: 'years', change: { nullable: false } },
          { kind: 'addCheckConstraint', table: 'users', name: 'years_range', expression: 'years BETWEEN 0 AND 150' },
          { kind: 'addColumn', table: 'users', column: { name: 'age', type: 'text', default: 'unknown' } },
          { kind: 'createIndex', table: 'users', name: 'users_years_adult', columns: ['years'], where: 'years >= 18' },
          { kind: 'dropColumn', table: 'users', column: 'nickname' },
          { kind: 'addUniqueConstraint', table: 'users', name: 'users_email_key', columns: ['email'] },
        ],
      }],
      down: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'dropConstraint', table: 'users', name: 'users_email_key' },
          { kind: 'addColumn', table: 'users', column: { name: 'nickname', type: 'text' } },
          { kind: 'dropIndex', table: 'users', name: 'users_years_adult' },
          { kind: 'dropColumn', table: 'users', column: 'age' },
          { kind: 'dropConstraint', table: 'users', name: 'years_range' },
          { kind: 'alterColumn', table: 'users', column: 'years', change: { nullable: true } },
          { kind: 'renameColumn', table: 'users', from: 'years', to: 'age' },
        ],
      }],
      check: async () => {
        const t = await table('users')
        expect(t?.columns.map((c) => [c.name, c.nullable])).toEqual([['id', true], ['email', false], ['years', false], ['age', true]])
        expect(t?.indexes.map((i) => [i.name, i.columns, i.where])).toEqual([
          ['users_age', ['years'], null],
          ['users_years_adult', ['years'], '"years" >= 18'],
        ])
        expect(t?.constraints.filter((c) => c.name !== null)).toEqual([
          { name: 'users_email_key', kind: 'unique', columns: ['email'] },
          { name: 'years_range', kind: 'check', columns: [], expression: '"years" BETWEEN 0 AND 150' },
        ])
        expect(await sql(db.conn, 'SELECT email, years, age FROM users ORDER BY id')).toEqual([
          { email: 'a@x', years: 30, age: 'unknown' },
          { email: 'b@x', years: 40, age: 'unknown' },
          { email: 'c@x', years: 50, age: 'unknown' },
        ])
        expect((await rejection(() => exec(db.conn, "INSERT INTO users (email, years) VALUES ('q', 200)"))).message).toMatch(/years_range/)
      },
    })
  })

  it('batchAlterTable swapping two column names around a rebuild', async () => {
    await roundTrip(db.conn, {
      up: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'renameColumn', table: 'users', from: 'email', to: 'tmp' },
          { kind: 'renameColumn', table: 'users', from: 'nickname', to: 'email' },
          { kind: 'renameColumn', table: 'users', from: 'tmp', to: 'nickname' },
          { kind: 'addCheckConstraint', table: 'users', name: 'nick_set', expression: 'nickname IS NOT NULL' },
        ],
      }],
      down: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'dropConstraint', table: 'users', name: 'nick_set' },
          { kind: 'renameColumn', table: 'users', from: 'nickname', to: 'tmp' },
          { kind: 'renameColumn', table: 'users', from: 'email', to: 'nickname' },
          { kind: 'renameColumn', table: 'users', from: 'tmp', to: 'email' },
        ],
      }],
      check: async () => {
        expect(await sql(db.conn, 'SELECT nickname, email FROM users ORDER BY id')).toEqual([
          { nickname: 'a@x', email: 'a' },
          { nickname: 'b@x', email: null },
          { nickname: 'c@x', email: 'c' },
        ])
        const t = await table('users')
        expect(t?.constraints).toContainEqual({ name: 'nick_set', kind: 'check', columns: [], expression: '"nickname" IS NOT NULL' })
      },
    })
  })
})
