import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ColumnDef, Operation } from '../../src/ops/operation.js'
import { apply, exec, openDatabase, rejection, roundTrip, snapshot, sql, type TempDatabase } from './mysql-harness.js'

// Every op on the real MySQL / MariaDB server, each test in its own database: up → check schema
// and rows → hand-written inverse → schema as before → up again. No transactions: DDL commits.

let db: TempDatabase
const users: readonly ColumnDef[] = [
  { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
  { name: 'email', type: 'varchar(120)', nullable: false },
  { name: 'age', type: 'integer', default: 0 },
  { name: 'nickname', type: 'text' },
]

beforeEach(async () => {
  db = await openDatabase()
  await apply(db.conn, { kind: 'createTable', table: 'users', columns: users })
  await exec(db.conn, "INSERT INTO users (email, age, nickname) VALUES ('a@x', 30, 'a'), ('b@x', 40, NULL), ('c@x', 50, 'c')")
})
afterEach(async () => db.cleanup())

const table = async (name: string) => (await snapshot(db.conn)).tables.find((t) => t.name === name)
const column = async (t: string, c: string) => (await table(t))?.columns.find((x) => x.name === c)
const count = async (t: string) => Number((await sql<{ n: number }>(db.conn, `SELECT count(*) AS n FROM \`${t}\``))[0]!.n)

describe('mysql ops: tables', () => {
  it('createTable: every portable type, literal defaults, composite key, unique, references ↔ dropTable', async () => {
    const create: Operation = {
      kind: 'createTable',
      table: 'memberships',
      primaryKey: ['user_id', 'org'],
      columns: [
        { name: 'user_id', type: 'integer', references: { table: 'users', column: 'id', onDelete: 'cascade', onUpdate: 'no action' } },
        { name: 'org', type: 'uuid' },
        { name: 'role', type: 'varchar(20)', nullable: false, default: "o'wn\\er" },
        { name: 'meta', type: 'json', default: '{"a": 1}' },
        { name: 'active', type: 'boolean', default: true },
        { name: 'score', type: 'numeric(10,2)', default: 1.5 },
        { name: 'big', type: 'bigint', default: 9007199254740993n },
        { name: 'avatar', type: 'blob', default: new Uint8Array([0xde, 0xad]) },
        { name: 'joined', type: 'timestamp', default: { sql: 'CURRENT_TIMESTAMP(6)' } },
        { name: 'day', type: 'date' },
        { name: 'ratio', type: 'real', unique: true },
        { name: 'note', type: 'text', default: null },
        { name: 'tiny', type: 'smallint' },
      ],
    }
    await roundTrip(db.conn, {
      up: [create],
      down: [{ kind: 'dropTable', table: 'memberships' }],
      check: async () => {
        const t = await table('memberships')
        expect(t?.columns.map((c) => [c.name, c.type.replace(/^(int|bigint|smallint)\(\d+\)$/, '$1'), c.nullable, c.default, c.primaryKey])).toEqual([
          ['user_id', 'int', false, null, 1],
          ['org', 'char(36)', false, null, 2],
          ['role', 'varchar(20)', false, "'o''wn\\\\er'", 0],
          ['meta', 'json', true, `'{"a": 1}'`, 0],
          ['active', 'tinyint(1)', true, '1', 0],
          ['score', 'decimal(10,2)', true, '1.50', 0],
          ['big', 'bigint', true, '9007199254740993', 0],
          ['avatar', 'longblob', true, "X'dead'", 0],
          ['joined', 'datetime(6)', true, 'current_timestamp(6)', 0],
          ['day', 'date', true, null, 0],
          ['ratio', 'double', true, null, 0],
          ['note', 'text', true, null, 0],
          ['tiny', 'smallint', true, null, 0],
        ])
        expect(t?.constraints).toEqual([
          { name: 'PRIMARY', kind: 'primaryKey', columns: ['user_id', 'org'] },
          { name: 'memberships_user_id_fkey', kind: 'foreignKey', columns: ['user_id'], refTable: 'users', refColumns: ['id'], onDelete: 'CASCADE' },
          { name: 'ratio', kind: 'unique', columns: ['ratio'] },
        ])
        expect(t?.indexes).toEqual([])
        await exec(db.conn, "INSERT INTO memberships (user_id, org) VALUES (1, '00000000-0000-0000-0000-000000000001')")
        const [row] = await sql(db.conn, "SELECT role, JSON_VALUE(meta, '$.a') AS a, active, CAST(big AS char) AS big, HEX(avatar) AS avatar FROM memberships")
        expect(row).toEqual({ role: "o'wn\\er", a: '1', active: 1, big: '9007199254740993', avatar: 'DEAD' })
        await exec(db.conn, 'DELETE FROM users WHERE id = 1') // ON DELETE CASCADE
        expect(await count('memberships')).toBe(0)
        await exec(db.conn, "INSERT INTO users (id, email) VALUES (1, 'a@x')")
      },
    })
  })

  it('createTable: an autoIncrement key numbers itself and still takes explicit ids', async () => {
    expect((await column('users', 'id'))).toMatchObject({ name: 'id', nullable: false, default: null, primaryKey: 1, autoIncrement: true })
    await exec(db.conn, "INSERT INTO users (id, email) VALUES (100, 'z@x')")
    await exec(db.conn, "INSERT INTO users (email) VALUES ('y@x')")
    const [row] = await sql<{ id: number }>(db.conn, "SELECT id FROM users WHERE email = 'y@x'")
    expect(row?.id).toBe(101)
  })

  it('createTable ifNotExists and dropTable ifExists are idempotent', async () => {
    const before = await snapshot(db.conn)
    await apply(db.conn, { kind: 'createTable', table: 'users', ifNotExists: true, columns: [{ name: 'x', type: 'text' }] })
    await apply(db.conn, { kind: 'dropTable', table: 'ghost', ifExists: true })
    expect(await snapshot(db.conn)).toEqual(before)
  })

  it('dropTable ↔ createTable', async () => {
    await exec(db.conn, 'DELETE FROM users')
    await roundTrip(db.conn, {
      up: [{ kind: 'dropTable', table: 'users' }],
      down: [{ kind: 'createTable', table: 'users', columns: users }],
      check: async () => expect(await table('users')).toBeUndefined(),
    })
  })

  it('renameTable ↔ renameTable back, rows kept', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'renameTable', from: 'users', to: 'Members' }],
      down: [{ kind: 'renameTable', from: 'Members', to: 'users' }],
      check: async () => {
        expect(await table('users')).toBeUndefined()
        expect(await count('Members')).toBe(3)
      },
    })
  })
})

describe('mysql ops: columns', () => {
  it('addColumn (not null with default, references) ↔ dropColumn', async () => {
    await apply(db.conn, { kind: 'createTable', table: 'orgs', columns: [{ name: 'id', type: 'integer', primaryKey: true }] })
    await roundTrip(db.conn, {
      up: [
        { kind: 'addColumn', table: 'users', column: { name: 'status', type: 'varchar(10)', nullable: false, default: 'new' } },
        { kind: 'addColumn', table: 'users', column: { name: 'org_id', type: 'integer', references: { table: 'orgs', column: 'id' } } },
      ],
      down: [
        { kind: 'dropConstraint', table: 'users', name: 'users_org_id_fkey' },
        { kind: 'dropColumn', table: 'users', column: 'org_id' },
        { kind: 'dropColumn', table: 'users', column: 'status' },
      ],
      check: async () => {
        expect(await column('users', 'status')).toEqual({ name: 'status', type: 'varchar(10)', nullable: false, default: "'new'", primaryKey: 0 })
        expect((await sql(db.conn, 'SELECT DISTINCT status FROM users'))).toEqual([{ status: 'new' }])
        expect((await table('users'))?.constraints.map((c) => c.name)).toContain('users_org_id_fkey')
      },
    })
  })

  it('renameColumn ↔ renameColumn back, values kept', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'renameColumn', table: 'users', from: 'nickname', to: 'handle' }],
      down: [{ kind: 'renameColumn', table: 'users', from: 'handle', to: 'nickname' }],
      check: async () => {
        expect(await column('users', 'nickname')).toBeUndefined()
        expect(await sql(db.conn, 'SELECT handle FROM users ORDER BY id')).toEqual([{ handle: 'a' }, { handle: null }, { handle: 'c' }])
      },
    })
  })

  it('alterColumn: type, nullability and default ↔ the previous definition, rows kept, the rest restated', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'bigint', nullable: false, default: 18 } }],
      down: [{ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'int(11)', nullable: true, default: 0 } }],
      check: async () => {
        expect(await column('users', 'age')).toMatchObject({ nullable: false, default: '18', primaryKey: 0 })
        expect((await column('users', 'age'))?.type).toMatch(/^bigint/)
        expect(await sql(db.conn, 'SELECT age FROM users ORDER BY id')).toEqual([{ age: 30 }, { age: 40 }, { age: 50 }])
      },
    })
    // a change of the default alone keeps the type, nullability and AUTO_INCREMENT
    const before = await column('users', 'email')
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'email', change: { default: 'none' } })
    expect(await column('users', 'email')).toEqual({ ...before, default: "'none'" })
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'email', change: { default: null } })
    expect(await column('users', 'email')).toEqual(before)
    const id = await column('users', 'id')
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'id', change: { type: 'bigint' } })
    expect(await column('users', 'id')).toMatchObject({ autoIncrement: true, primaryKey: 1, nullable: false })
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'id', change: { type: id!.type } })
    expect(await column('users', 'id')).toEqual(id)
  })

  it('alterColumn using: runs UPDATE then MODIFY, converting the values', async () => {
    await exec(db.conn, "UPDATE users SET nickname = '7' WHERE nickname IS NULL")
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'nickname', change: { type: 'integer', using: 'length(nickname)' } })
    expect(await sql(db.conn, 'SELECT nickname FROM users ORDER BY id')).toEqual([{ nickname: 1 }, { nickname: 1 }, { nickname: 1 }])
  })

  it('alterColumn on a json column keeps it json (MariaDB check stays hidden)', async () => {
    await apply(db.conn, { kind: 'addColumn', table: 'users', column: { name: 'meta', type: 'json' } })
    await exec(db.conn, `UPDATE users SET meta = '[]'`)
    const before = await snapshot(db.conn)
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'meta', change: { nullable: false, default: '{}' } })
    expect(await column('users', 'meta')).toMatchObject({ type: 'json', nullable: false, default: "'{}'" })
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'meta', change: { nullable: true, default: null } })
    expect(await snapshot(db.conn)).toEqual(before)
  })
})

describe('mysql ops: indexes and constraints', () => {
  it('createIndex ↔ dropIndex, concurrently as ALGORITHM=INPLACE LOCK=NONE', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'createIndex', name: 'users_age_idx', table: 'users', columns: ['age', 'email'], concurrently: true }],
      down: [{ kind: 'dropIndex', name: 'users_age_idx', table: 'users' }],
      check: async () => expect((await table('users'))?.indexes).toEqual([{ name: 'users_age_idx', columns: ['age', 'email'], unique: false, where: null }]),
    })
  })

  it('createIndex unique ↔ dropIndex: a unique key is reported as a unique constraint', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'createIndex', name: 'users_email_key', table: 'users', columns: ['email'], unique: true }],
      down: [{ kind: 'dropIndex', name: 'users_email_key', table: 'users' }],
      check: async () => {
        expect((await table('users'))?.constraints).toContainEqual({ name: 'users_email_key', kind: 'unique', columns: ['email'] })
        expect(await rejection(() => exec(db.conn, "INSERT INTO users (email) VALUES ('a@x')"))).toBeInstanceOf(Error)
      },
    })
  })

  it('refuses a partial index and a text key before the server sees them', async () => {
    expect((await rejection(() => apply(db.conn, { kind: 'createIndex', name: 'i', table: 'users', columns: ['age'], where: 'age > 1' }))).code).toBe('E_MIGRATION_FILE')
    expect((await rejection(() => apply(db.conn, { kind: 'createIndex', name: 'i', table: 'users', columns: ['nickname'] }))).code).toBe('E_MIGRATION_FILE')
    expect((await rejection(() => apply(db.conn, { kind: 'addUniqueConstraint', name: 'u', table: 'users', columns: ['nickname'] }))).code).toBe('E_MIGRATION_FILE')
    expect((await rejection(() => apply(db.conn, { kind: 'dropIndex', name: 'i' }))).code).toBe('E_MIGRATION_FILE')
  })

  it('addUniqueConstraint ↔ dropConstraint (DROP INDEX)', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addUniqueConstraint', name: 'users_email_uq', table: 'users', columns: ['email', 'age'] }],
      down: [{ kind: 'dropConstraint', name: 'users_email_uq', table: 'users' }],
      check: async () => expect((await table('users'))?.constraints).toContainEqual({ name: 'users_email_uq', kind: 'unique', columns: ['email', 'age'] }),
    })
  })

  it('addCheckConstraint ↔ dropConstraint, enforced', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addCheckConstraint', name: 'users_age_ck', table: 'users', expression: 'age >= 0' }],
      down: [{ kind: 'dropConstraint', name: 'users_age_ck', table: 'users' }],
      check: async () => {
        expect((await table('users'))?.constraints).toContainEqual({ name: 'users_age_ck', kind: 'check', columns: [], expression: '`age` >= 0' })
        expect(await rejection(() => exec(db.conn, "INSERT INTO users (email, age) VALUES ('n@x', -1)"))).toBeInstanceOf(Error)
      },
    })
  })

  it('addForeignKey ↔ dropConstraint: the index InnoDB made goes with it', async () => {
    await apply(db.conn, { kind: 'createTable', table: 'posts', columns: [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'author', type: 'integer' }] })
    await roundTrip(db.conn, {
      up: [{ kind: 'addForeignKey', name: 'posts_author_fk', table: 'posts', columns: ['author'], refTable: 'users', refColumns: ['id'], onDelete: 'SET NULL', onUpdate: 'RESTRICT' }],
      down: [{ kind: 'dropConstraint', name: 'posts_author_fk', table: 'posts' }],
      check: async () => {
        const t = await table('posts')
        expect(t?.constraints).toContainEqual({ name: 'posts_author_fk', kind: 'foreignKey', columns: ['author'], refTable: 'users', refColumns: ['id'], onDelete: 'SET NULL' })
        expect(t?.indexes).toEqual([])
      },
    })
    // an FK over an existing index makes no index of its own: dropping it leaves the index
    await apply(db.conn, { kind: 'dropConstraint', name: 'posts_author_fk', table: 'posts' })
    await apply(db.conn, { kind: 'createIndex', name: 'posts_author_idx', table: 'posts', columns: ['author'] })
    await roundTrip(db.conn, {
      up: [{ kind: 'addForeignKey', name: 'posts_author_fk', table: 'posts', columns: ['author'], refTable: 'users', refColumns: ['id'] }],
      down: [{ kind: 'dropConstraint', name: 'posts_author_fk', table: 'posts' }],
      check: async () => expect((await table('posts'))?.indexes.map((i) => i.name)).toEqual(['posts_author_idx']),
    })
  })

  it('dropConstraint of an unknown name fails with a hint naming the constraints', async () => {
    const error = await rejection(() => apply(db.conn, { kind: 'dropConstraint', name: 'nope', table: 'users' }))
    expect(error.code).toBe('E_MIGRATION_FAILED')
  })
})

describe('mysql ops: execute and batchAlterTable', () => {
  it('execute binds values and passes { sql } expressions through', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'execute', sql: 'UPDATE users SET age = ? + ? WHERE email = ?', params: [{ sql: 'age' }, 1, 'a@x'] }],
      down: [{ kind: 'execute', sql: 'UPDATE users SET age = age - ? WHERE email = ?', params: [1, 'a@x'] }],
      changesSchema: false,
      check: async () => expect((await sql(db.conn, "SELECT age FROM users WHERE email = 'a@x'"))[0]).toEqual({ age: 31 }),
    })
  })

  it('batchAlterTable: each op in order, later ops see earlier ones ↔ the inverse batch', async () => {
    await roundTrip(db.conn, {
      up: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'addColumn', table: 'users', column: { name: 'code', type: 'varchar(8)', default: 'x' } },
          { kind: 'renameColumn', table: 'users', from: 'code', to: 'ref' },
          { kind: 'alterColumn', table: 'users', column: 'ref', change: { nullable: false, default: 'y' } },
          { kind: 'createIndex', table: 'users', name: 'users_ref_idx', columns: ['ref'] },
          { kind: 'addUniqueConstraint', table: 'users', name: 'users_ref_uq', columns: ['ref', 'email'] },
          { kind: 'addCheckConstraint', table: 'users', name: 'users_ref_ck', expression: "ref <> ''" },
          { kind: 'dropConstraint', table: 'users', name: 'users_ref_ck' },
        ],
      }],
      down: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'dropConstraint', table: 'users', name: 'users_ref_uq' },
          { kind: 'dropIndex', table: 'users', name: 'users_ref_idx' },
          { kind: 'dropColumn', table: 'users', column: 'ref' },
        ],
      }],
      check: async () => {
        expect(await column('users', 'ref')).toEqual({ name: 'ref', type: 'varchar(8)', nullable: false, default: "'y'", primaryKey: 0 })
        expect(await sql(db.conn, 'SELECT DISTINCT ref FROM users')).toEqual([{ ref: 'x' }])
        expect((await table('users'))?.indexes.map((i) => i.name)).toEqual(['users_ref_idx'])
      },
    })
  })
})
