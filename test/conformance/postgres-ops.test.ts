import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ColumnDef, Operation } from '../../src/ops/operation.js'
import { apply, applyOutside, exec, openSchema, rejection, roundTrip, snapshot, sql, type TempSchema } from './postgres-harness.js'

// Every op on a real PostgreSQL server, each test in its own schema: up → check schema and rows
// → hand-written inverse → schema as before → up again.

let db: TempSchema
const users: readonly ColumnDef[] = [
  { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
  { name: 'email', type: 'varchar(120)', nullable: false },
  { name: 'age', type: 'integer', default: 0 },
  { name: 'nickname', type: 'text' },
]

beforeEach(async () => {
  db = await openSchema()
  await apply(db.conn, { kind: 'createTable', table: 'users', columns: users })
  await exec(db.conn, "INSERT INTO users (email, age, nickname) VALUES ('a@x', 30, 'a'), ('b@x', 40, NULL), ('c@x', 50, 'c')")
})
afterEach(async () => db.cleanup())

const table = async (name: string) => (await snapshot(db.conn)).tables.find((t) => t.name === name)
const column = async (t: string, c: string) => (await table(t))?.columns.find((x) => x.name === c)
const count = async (t: string) => Number((await sql<{ n: string }>(db.conn, `SELECT count(*) AS n FROM "${t}"`))[0]!.n)

describe('postgres ops: tables', () => {
  it('createTable: every portable type, literal defaults, composite key, unique, references ↔ dropTable', async () => {
    const create: Operation = {
      kind: 'createTable',
      table: 'memberships',
      primaryKey: ['user_id', 'org'],
      columns: [
        { name: 'user_id', type: 'bigint', references: { table: 'users', column: 'id', onDelete: 'cascade', onUpdate: 'no action' } },
        { name: 'org', type: 'uuid' },
        { name: 'role', type: 'varchar(20)', nullable: false, default: "o'wner" },
        { name: 'meta', type: 'json', default: '{"a": 1}' },
        { name: 'active', type: 'boolean', default: true },
        { name: 'score', type: 'numeric(10,2)', default: 1.5 },
        { name: 'big', type: 'bigint', default: 9007199254740993n },
        { name: 'avatar', type: 'blob', default: new Uint8Array([0xde, 0xad]) },
        { name: 'joined', type: 'timestamp', default: { sql: 'CURRENT_TIMESTAMP' } },
        { name: 'day', type: 'date' },
        { name: 'ratio', type: 'real', unique: true },
        { name: 'note', type: 'text', default: null },
        { name: 'tags', type: 'text[]' },
      ],
    }
    await roundTrip(db.conn, {
      up: [create],
      down: [{ kind: 'dropTable', table: 'memberships' }],
      check: async () => {
        const t = await table('memberships')
        expect(t?.columns.map((c) => [c.name, c.type, c.nullable, c.default, c.primaryKey])).toEqual([
          ['user_id', 'bigint', false, null, 1],
          ['org', 'uuid', false, null, 2],
          ['role', 'character varying(20)', false, "'o''wner'::character varying", 0],
          ['meta', 'jsonb', true, `'{"a": 1}'::jsonb`, 0],
          ['active', 'boolean', true, 'true', 0],
          ['score', 'numeric(10,2)', true, '1.5', 0],
          ['big', 'bigint', true, "'9007199254740993'::bigint", 0],
          ['avatar', 'bytea', true, "'\\xdead'::bytea", 0],
          ['joined', 'timestamp without time zone', true, 'CURRENT_TIMESTAMP', 0],
          ['day', 'date', true, null, 0],
          ['ratio', 'real', true, null, 0],
          ['note', 'text', true, null, 0],
          ['tags', 'text[]', true, null, 0],
        ])
        expect(t?.constraints).toEqual([
          { name: 'memberships_pkey', kind: 'primaryKey', columns: ['user_id', 'org'] },
          { name: 'memberships_ratio_key', kind: 'unique', columns: ['ratio'] },
          { name: 'memberships_user_id_fkey', kind: 'foreignKey', columns: ['user_id'], refTable: 'users', refColumns: ['id'], onDelete: 'CASCADE' },
        ])
        await exec(db.conn, "INSERT INTO memberships (user_id, org) VALUES (1, '00000000-0000-0000-0000-000000000001')")
        const [row] = await sql(db.conn, "SELECT role, meta->>'a' AS a, active, big::text, encode(avatar, 'hex') AS avatar FROM memberships")
        expect(row).toEqual({ role: "o'wner", a: '1', active: true, big: '9007199254740993', avatar: 'dead' })
        await exec(db.conn, 'DELETE FROM users WHERE id = 1') // ON DELETE CASCADE
        expect(await count('memberships')).toBe(0)
        await exec(db.conn, "INSERT INTO users (id, email) VALUES (1, 'a@x')")
      },
    })
  })

  it('createTable: an autoIncrement key is an identity column that still takes explicit ids', async () => {
    const t = await table('users')
    expect(t?.columns[0]).toEqual({ name: 'id', type: 'integer', nullable: false, default: null, primaryKey: 1, autoIncrement: true })
    await exec(db.conn, "INSERT INTO users (id, email) VALUES (100, 'z@x')")
    const [row] = await sql<{ id: number }>(db.conn, "INSERT INTO users (email) VALUES ('y@x') RETURNING id")
    expect(row?.id).toBe(4)
    await apply(db.conn, { kind: 'createTable', table: 'big', columns: [{ name: 'id', type: 'bigint', primaryKey: true, autoIncrement: true }] })
    expect((await column('big', 'id'))?.autoIncrement).toBe(true)
  })

  it('createTable ifNotExists and dropTable ifExists are idempotent', async () => {
    const before = await snapshot(db.conn)
    await apply(db.conn, { kind: 'createTable', table: 'users', ifNotExists: true, columns: [{ name: 'x', type: 'text' }] })
    expect(await snapshot(db.conn)).toEqual(before)
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

describe('postgres ops: columns', () => {
  it('addColumn (NOT NULL with default, unique, references) ↔ dropColumn', async () => {
    await apply(db.conn, { kind: 'createTable', table: 'orgs', columns: [{ name: 'id', type: 'integer', primaryKey: true }] })
    await roundTrip(db.conn, {
      up: [
        { kind: 'addColumn', table: 'users', column: { name: 'score', type: 'real', nullable: false, default: 2.5 } },
        { kind: 'addColumn', table: 'users', column: { name: 'org', type: 'integer', unique: true, references: { table: 'orgs', column: 'id', onDelete: 'set null' } } },
      ],
      down: [{ kind: 'dropColumn', table: 'users', column: 'org' }, { kind: 'dropColumn', table: 'users', column: 'score' }],
      check: async () => {
        expect(await column('users', 'score')).toEqual({ name: 'score', type: 'real', nullable: false, default: '2.5', primaryKey: 0 })
        const [row] = await sql(db.conn, 'SELECT score FROM users WHERE id = 1')
        expect(row).toEqual({ score: 2.5 })
        expect((await table('users'))?.constraints.map((c) => c.name)).toEqual(['users_org_fkey', 'users_org_key', 'users_pkey'])
      },
    })
  })

  it('dropColumn ↔ addColumn (the last column comes back in place)', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'dropColumn', table: 'users', column: 'nickname' }],
      down: [{ kind: 'addColumn', table: 'users', column: { name: 'nickname', type: 'text' } }],
      check: async () => expect(await column('users', 'nickname')).toBeUndefined(),
    })
  })

  it('renameColumn ↔ renameColumn back; an index follows the column', async () => {
    await apply(db.conn, { kind: 'createIndex', name: 'users_email', table: 'users', columns: ['email'] })
    await roundTrip(db.conn, {
      up: [{ kind: 'renameColumn', table: 'users', from: 'email', to: 'Mail' }],
      down: [{ kind: 'renameColumn', table: 'users', from: 'Mail', to: 'email' }],
      check: async () => {
        expect((await table('users'))?.indexes).toEqual([{ name: 'users_email', columns: ['Mail'], unique: false, where: null }])
        expect(await sql(db.conn, 'SELECT "Mail" FROM users WHERE id = 1')).toEqual([{ Mail: 'a@x' }])
      },
    })
  })

  it('alterColumn: type change with USING converts the rows, and back', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'text', using: "age::text || ' years'", default: 'none' } }],
      down: [{ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'integer', using: "split_part(age, ' ', 1)::integer", default: 0 } }],
      check: async () => {
        expect(await column('users', 'age')).toEqual({ name: 'age', type: 'text', nullable: true, default: "'none'::text", primaryKey: 0 })
        expect(await sql(db.conn, 'SELECT age FROM users ORDER BY id')).toEqual([{ age: '30 years' }, { age: '40 years' }, { age: '50 years' }])
      },
    })
    expect(await sql(db.conn, 'SELECT age FROM users ORDER BY id')).toEqual([{ age: '30 years' }, { age: '40 years' }, { age: '50 years' }])
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'integer', using: "split_part(age, ' ', 1)::integer", default: 0 } })
    expect(await sql(db.conn, 'SELECT age FROM users ORDER BY id')).toEqual([{ age: 30 }, { age: 40 }, { age: 50 }])
  })

  it('alterColumn: nullability and default (null drops it)', async () => {
    await exec(db.conn, "UPDATE users SET nickname = 'b' WHERE nickname IS NULL")
    await roundTrip(db.conn, {
      up: [
        { kind: 'alterColumn', table: 'users', column: 'nickname', change: { nullable: false, default: { sql: "'anon'" } } },
        { kind: 'alterColumn', table: 'users', column: 'age', change: { default: null } },
      ],
      down: [
        { kind: 'alterColumn', table: 'users', column: 'nickname', change: { nullable: true, default: null } },
        { kind: 'alterColumn', table: 'users', column: 'age', change: { default: 0 } },
      ],
      check: async () => {
        expect(await column('users', 'nickname')).toEqual({ name: 'nickname', type: 'text', nullable: false, default: "'anon'::text", primaryKey: 0 })
        expect((await column('users', 'age'))?.default).toBeNull()
        await exec(db.conn, "INSERT INTO users (email) VALUES ('d@x')")
        expect(await sql(db.conn, "SELECT nickname, age FROM users WHERE email = 'd@x'")).toEqual([{ nickname: 'anon', age: null }])
        await exec(db.conn, "DELETE FROM users WHERE email = 'd@x'")
      },
    })
  })

  it('alterColumn: SET NOT NULL fails on existing NULLs and the transaction leaves the schema as it was', async () => {
    const before = await snapshot(db.conn)
    const error = await rejection(() => apply(db.conn,
      { kind: 'addColumn', table: 'users', column: { name: 'x', type: 'integer' } },
      { kind: 'alterColumn', table: 'users', column: 'x', change: { nullable: false } },
    ))
    expect(error.message).toMatch(/contains null values/)
    expect(await snapshot(db.conn)).toEqual(before)
  })

  it('alterColumn: `using` alone rewrites the values in the current type', async () => {
    await apply(db.conn, { kind: 'alterColumn', table: 'users', column: 'email', change: { using: 'upper(email)' } })
    expect((await column('users', 'email'))?.type).toBe('character varying(120)')
    expect(await sql(db.conn, 'SELECT email FROM users ORDER BY id')).toEqual([{ email: 'A@X' }, { email: 'B@X' }, { email: 'C@X' }])
  })
})

describe('postgres ops: indexes', () => {
  it('createIndex (unique, partial, IF NOT EXISTS) ↔ dropIndex', async () => {
    await roundTrip(db.conn, {
      up: [
        { kind: 'createIndex', name: 'users_email', table: 'users', columns: ['email'], unique: true, where: 'age > 18' },
        { kind: 'createIndex', name: 'users_age_nick', table: 'users', columns: ['age', 'nickname'], ifNotExists: true },
        { kind: 'createIndex', name: 'users_age_nick', table: 'users', columns: ['age'], ifNotExists: true },
      ],
      down: [{ kind: 'dropIndex', name: 'users_email', table: 'users' }, { kind: 'dropIndex', name: 'users_age_nick', ifExists: true }],
      check: async () => {
        expect((await table('users'))?.indexes).toEqual([
          { name: 'users_age_nick', columns: ['age', 'nickname'], unique: false, where: null },
          { name: 'users_email', columns: ['email'], unique: true, where: '(age > 18)' },
        ])
        const error = await rejection(() => exec(db.conn, "INSERT INTO users (email, age) VALUES ('a@x', 20), ('a@x', 21)"))
        expect(error.message).toMatch(/duplicate key/)
      },
    })
  })

  it('createIndex CONCURRENTLY runs outside a transaction (and is refused inside one) ↔ dropIndex CONCURRENTLY', async () => {
    const create: Operation = { kind: 'createIndex', name: 'users_age', table: 'users', columns: ['age'], concurrently: true }
    const error = await rejection(() => apply(db.conn, create))
    expect(error.message).toMatch(/cannot run inside a transaction block/)
    await roundTrip(db.conn, {
      run: applyOutside,
      up: [create],
      down: [{ kind: 'dropIndex', name: 'users_age', concurrently: true }],
      check: async () => {
        expect((await table('users'))?.indexes).toEqual([{ name: 'users_age', columns: ['age'], unique: false, where: null }])
        const [valid] = await sql(db.conn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_age'::regclass")
        expect(valid).toEqual({ indisvalid: true })
      },
    })
  })
})

describe('postgres ops: constraints', () => {
  it('addUniqueConstraint ↔ dropConstraint', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addUniqueConstraint', name: 'users_email_nick', table: 'users', columns: ['email', 'nickname'] }],
      down: [{ kind: 'dropConstraint', name: 'users_email_nick', table: 'users' }],
      check: async () => {
        const t = await table('users')
        expect(t?.constraints).toContainEqual({ name: 'users_email_nick', kind: 'unique', columns: ['email', 'nickname'] })
        expect(t?.indexes).toEqual([]) // the backing index shows as the constraint
      },
    })
  })

  it('addCheckConstraint ↔ dropConstraint; a violating row is refused', async () => {
    await roundTrip(db.conn, {
      up: [{ kind: 'addCheckConstraint', name: 'age_range', table: 'users', expression: 'age >= 0 AND age < 200' }],
      down: [{ kind: 'dropConstraint', name: 'age_range', table: 'users' }],
      check: async () => {
        expect((await table('users'))?.constraints).toContainEqual({ name: 'age_range', kind: 'check', columns: ['age'], expression: '((age >= 0) AND (age < 200))' })
        const error = await rejection(() => exec(db.conn, "INSERT INTO users (email, age) VALUES ('x', -1)"))
        expect(error.message).toMatch(/violates check constraint "age_range"/)
      },
    })
  })

  it('addForeignKey (composite, actions) ↔ dropConstraint', async () => {
    await apply(db.conn,
      { kind: 'createTable', table: 'teams', columns: [{ name: 'org', type: 'integer' }, { name: 'code', type: 'text' }], primaryKey: ['org', 'code'] },
      { kind: 'createTable', table: 'players', columns: [{ name: 'org', type: 'integer' }, { name: 'team', type: 'text' }] },
    )
    await exec(db.conn, "INSERT INTO teams VALUES (1, 'a')", "INSERT INTO players VALUES (1, 'a')")
    await roundTrip(db.conn, {
      up: [{ kind: 'addForeignKey', name: 'players_team', table: 'players', columns: ['org', 'team'], refTable: 'teams', refColumns: ['org', 'code'], onDelete: 'cascade', onUpdate: 'restrict' }],
      down: [{ kind: 'dropConstraint', name: 'players_team', table: 'players' }],
      check: async () => {
        expect((await table('players'))?.constraints).toEqual([
          { name: 'players_team', kind: 'foreignKey', columns: ['org', 'team'], refTable: 'teams', refColumns: ['org', 'code'], onDelete: 'CASCADE', onUpdate: 'RESTRICT' },
        ])
        const error = await rejection(() => exec(db.conn, "INSERT INTO players VALUES (2, 'zz')"))
        expect(error.message).toMatch(/violates foreign key constraint "players_team"/)
      },
    })
  })

  it('dropConstraint ↔ add it back', async () => {
    await apply(db.conn, { kind: 'addCheckConstraint', name: 'email_at', table: 'users', expression: "position('@' in email) > 0" })
    await roundTrip(db.conn, {
      up: [{ kind: 'dropConstraint', name: 'email_at', table: 'users' }],
      down: [{ kind: 'addCheckConstraint', name: 'email_at', table: 'users', expression: "position('@' in email) > 0" }],
      check: async () => expect((await table('users'))?.constraints.map((c) => c.name)).toEqual(['users_pkey']),
    })
  })
})

describe('postgres ops: execute and batchAlterTable', () => {
  it('execute binds `?` values and inlines { sql } values ↔ its inverse', async () => {
    await roundTrip(db.conn, {
      changesSchema: false,
      up: [{ kind: 'execute', sql: "UPDATE users SET nickname = ? || '?', age = ? WHERE email = ?", params: [{ sql: "upper('z')" }, 7, 'b@x'] }],
      down: [{ kind: 'execute', sql: 'UPDATE users SET nickname = NULL, age = ? WHERE email = ?', params: [40, 'b@x'] }],
      check: async () => {
        expect(await sql(db.conn, "SELECT nickname, age FROM users WHERE email = 'b@x'")).toEqual([{ nickname: 'Z?', age: 7 }])
      },
    })
  })

  it('execute keeps PostgreSQL `?` operators when there are no values', async () => {
    await apply(db.conn,
      { kind: 'addColumn', table: 'users', column: { name: 'doc', type: 'json', default: '{"k": 1}' } },
      { kind: 'execute', sql: "UPDATE users SET nickname = 'has k' WHERE doc ? 'k'", params: [] },
    )
    expect(await count('users')).toBe(3)
    expect(await sql(db.conn, "SELECT count(*)::int AS n FROM users WHERE nickname = 'has k'")).toEqual([{ n: 3 }])
  })

  it('batchAlterTable runs its ops in order ↔ the reversed batch', async () => {
    await roundTrip(db.conn, {
      up: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'addColumn', table: 'users', column: { name: 'score', type: 'integer', default: 1 } },
          { kind: 'renameColumn', table: 'users', from: 'nickname', to: 'handle' },
          { kind: 'alterColumn', table: 'users', column: 'handle', change: { using: "coalesce(handle, 'none')" } },
          { kind: 'createIndex', table: 'users', name: 'users_score', columns: ['score'], where: 'score > 0' },
          { kind: 'addCheckConstraint', table: 'users', name: 'score_pos', expression: 'score >= 0' },
          { kind: 'addUniqueConstraint', table: 'users', name: 'users_handle', columns: ['handle'] },
        ],
      }],
      down: [{
        kind: 'batchAlterTable',
        table: 'users',
        ops: [
          { kind: 'dropConstraint', table: 'users', name: 'users_handle' },
          { kind: 'dropConstraint', table: 'users', name: 'score_pos' },
          { kind: 'dropIndex', table: 'users', name: 'users_score' },
          { kind: 'alterColumn', table: 'users', column: 'handle', change: { using: "nullif(handle, 'none')" } },
          { kind: 'renameColumn', table: 'users', from: 'handle', to: 'nickname' },
          { kind: 'dropColumn', table: 'users', column: 'score' },
        ],
      }],
      check: async () => {
        const t = await table('users')
        expect(t?.columns.map((c) => c.name)).toEqual(['id', 'email', 'age', 'handle', 'score'])
        expect(t?.constraints.map((c) => c.name)).toEqual(['score_pos', 'users_handle', 'users_pkey'])
        expect(await sql(db.conn, 'SELECT handle, score FROM users ORDER BY id')).toEqual([
          { handle: 'a', score: 1 }, { handle: 'none', score: 1 }, { handle: 'c', score: 1 },
        ])
      },
    })
  })
})
