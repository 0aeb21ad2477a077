import { describe, expect, it } from 'vitest'
import type { CompileContext, Statement } from '../../src/dialects/dialect.js'
import { renderLiteral } from '../../src/dialects/shared/literals.js'
import { parsePortableType } from '../../src/dialects/shared/types.js'
import { sqliteType } from '../../src/dialects/sqlite/compiler/column-sql.js'
import { sqliteCompiler, sqliteTablesToInspect } from '../../src/dialects/sqlite/sqlite-compiler.js'
import type { SqliteTableSnapshot } from '../../src/dialects/sqlite/sqlite-introspector.js'
import { StrataError } from '../../src/errors/index.js'
import type { Operation } from '../../src/ops/operation.js'

// Exact SQL of every op, compiled against hand-written live tables (the compiler is pure).

const USERS: SqliteTableSnapshot = {
  name: 'users',
  sql: 'CREATE TABLE "users" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "age" INTEGER DEFAULT 0, "bio" TEXT)',
  columns: [],
  constraints: [],
  indexes: [{ name: 'users_age', columns: ['age'], unique: false, where: null, sql: 'CREATE INDEX "users_age" ON "users" ("age")' }],
  dependents: {
    triggers: [{ name: 'users_ai', table: 'users', sql: 'CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN SELECT 1; END' }],
    views: [{ name: 'adults', sql: 'CREATE VIEW adults AS SELECT * FROM users WHERE age >= 18' }],
    otherTriggers: [{ name: 'log_ai', table: 'log', sql: 'CREATE TRIGGER log_ai AFTER INSERT ON log BEGIN DELETE FROM users WHERE 0; END' }],
  },
}
const NOTES: SqliteTableSnapshot = {
  name: 'notes',
  sql: 'CREATE TABLE notes (body TEXT, n INT, CONSTRAINT n_pos CHECK (n > 0))',
  columns: [],
  constraints: [],
  indexes: [],
}
const ctx: CompileContext = { table: (name) => ({ users: USERS, notes: NOTES })[name] }

function compile(op: Operation): readonly Statement[] {
  return (sqliteCompiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[])(op, ctx)
}
const sqlOf = (op: Operation): string[] => compile(op).map((s) => s.sql)

/** The rebuild of `users` around `middle` (its new definition + copy). */
const usersRebuild = (definition: string, columns: string, values = columns, indexes = ['CREATE INDEX "users_age" ON "users" ("age")']): string[] => [
  'DROP TRIGGER "log_ai"',
  'DROP VIEW "adults"',
  `CREATE TABLE "_strata_new_users" ${definition}`,
  `INSERT INTO "_strata_new_users" (${columns}) SELECT ${values} FROM "users"`,
  'DELETE FROM sqlite_sequence WHERE name = ?',
  'INSERT INTO sqlite_sequence (name, seq) SELECT ?, seq FROM sqlite_sequence WHERE name = ?',
  'DROP TABLE "users"',
  'ALTER TABLE "_strata_new_users" RENAME TO "users"',
  ...indexes,
  'CREATE VIEW adults AS SELECT * FROM users WHERE age >= 18',
  'CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN SELECT 1; END',
  'CREATE TRIGGER log_ai AFTER INSERT ON log BEGIN DELETE FROM users WHERE 0; END',
]
const ALL = '"id", "email", "age", "bio"'

describe('sqlite compiler: tables', () => {
  it('createTable renders types, clauses in a fixed order, and literal defaults', () => {
    expect(sqlOf({
      kind: 'createTable',
      table: 'a"b',
      ifNotExists: true,
      columns: [
        { name: 'id', type: 'bigint', primaryKey: true, autoIncrement: true },
        { name: 'email', type: 'varchar(255)', nullable: false, unique: true, default: "it's" },
        { name: 'org', type: 'uuid', references: { table: 'orgs', column: 'id', onDelete: 'set  null', onUpdate: 'CASCADE' } },
        { name: 'doc', type: 'json', default: { sql: "json('{}')" } },
        { name: 'on', type: 'boolean', default: false },
        { name: 'n', type: 'numeric(10, 2)', default: -1.25 },
        { name: 'big', type: 'bigint', default: 12345678901234567890n },
        { name: 'raw', type: 'blob', default: new Uint8Array([0, 255]) },
        { name: 'x', type: 'real', default: null },
        { name: 'd', type: 'date' },
        { name: 'ts', type: 'timestamp' },
        { name: 'r', type: 'REAL' },
        { name: 'g', type: 'geometry(Point, 4326)' },
      ],
    })).toEqual([
      'CREATE TABLE IF NOT EXISTS "a""b" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" VARCHAR(255) NOT NULL UNIQUE DEFAULT \'it\'\'s\', ' +
        '"org" TEXT REFERENCES "orgs" ("id") ON DELETE SET NULL ON UPDATE CASCADE, "doc" TEXT DEFAULT (json(\'{}\')), "on" BOOLEAN DEFAULT 0, ' +
        '"n" NUMERIC(10,2) DEFAULT -1.25, "big" INTEGER DEFAULT 12345678901234567890, "raw" BLOB DEFAULT X\'00ff\', "x" REAL DEFAULT NULL, ' +
        '"d" DATE, "ts" TIMESTAMP, "r" REAL, "g" geometry(Point, 4326))',
    ])
  })

  it('createTable: composite primary key (option or several marked columns) makes its columns NOT NULL', () => {
    const columns = [{ name: 'a', type: 'text' }, { name: 'b', type: 'integer' }, { name: 'c', type: 'text', nullable: true }] as const
    expect(sqlOf({ kind: 'createTable', table: 't', columns, primaryKey: ['a', 'b'] })).toEqual([
      'CREATE TABLE "t" ("a" TEXT NOT NULL, "b" INTEGER NOT NULL, "c" TEXT, PRIMARY KEY ("a", "b"))',
    ])
    expect(sqlOf({ kind: 'createTable', table: 't', columns: [{ name: 'a', type: 'text', primaryKey: true }, { name: 'b', type: 'integer', primaryKey: true }] })).toEqual([
      'CREATE TABLE "t" ("a" TEXT NOT NULL, "b" INTEGER NOT NULL, PRIMARY KEY ("a", "b"))',
    ])
    expect(sqlOf({ kind: 'createTable', table: 't', columns: [{ name: 'k', type: 'text', primaryKey: true }] })).toEqual([
      'CREATE TABLE "t" ("k" TEXT PRIMARY KEY NOT NULL)',
    ])
  })

  it('dropTable, renameTable', () => {
    expect(sqlOf({ kind: 'dropTable', table: 'users' })).toEqual(['DROP TABLE "users"'])
    expect(sqlOf({ kind: 'dropTable', table: 'users', ifExists: true })).toEqual(['DROP TABLE IF EXISTS "users"'])
    expect(sqlOf({ kind: 'renameTable', from: 'users', to: 'people' })).toEqual(['ALTER TABLE "users" RENAME TO "people"'])
  })
})

describe('sqlite compiler: columns', () => {
  it('addColumn natively when ALTER TABLE allows it', () => {
    expect(sqlOf({ kind: 'addColumn', table: 'users', column: { name: 'plan', type: 'text', nullable: false, default: 'free' } })).toEqual([
      'ALTER TABLE "users" ADD COLUMN "plan" TEXT NOT NULL DEFAULT \'free\'',
    ])
    expect(sqlOf({ kind: 'addColumn', table: 'users', column: { name: 'org', type: 'integer', references: { table: 'orgs', column: 'id' } } })).toEqual([
      'ALTER TABLE "users" ADD COLUMN "org" INTEGER REFERENCES "orgs" ("id")',
    ])
  })

  it('addColumn by rebuild: unique, expression default, NOT NULL without default', () => {
    expect(sqlOf({ kind: 'addColumn', table: 'users', column: { name: 'at', type: 'timestamp', default: { sql: 'CURRENT_TIMESTAMP' } } })).toEqual(
      usersRebuild(`(${USERS.sql!.slice(22, -1)}, "at" TIMESTAMP DEFAULT (CURRENT_TIMESTAMP))`, ALL),
    )
    expect(sqlOf({ kind: 'addColumn', table: 'users', column: { name: 'h', type: 'text', unique: true } })[2]).toBe(
      'CREATE TABLE "_strata_new_users" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "age" INTEGER DEFAULT 0, "bio" TEXT, "h" TEXT UNIQUE)',
    )
    expect(compile({ kind: 'addColumn', table: 'users', column: { name: 'h', type: 'text', nullable: false } }).length).toBeGreaterThan(1)
  })

  it('dropColumn natively when nothing names the column, by rebuild otherwise (its index is dropped with it)', () => {
    expect(sqlOf({ kind: 'dropColumn', table: 'users', column: 'bio' })).toEqual(['ALTER TABLE "users" DROP COLUMN "bio"'])
    expect(sqlOf({ kind: 'dropColumn', table: 'users', column: 'age' })).toEqual([
      ...usersRebuild('("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "bio" TEXT)', '"id", "email", "bio"', undefined, []),
      'ALTER TABLE "users" ADD COLUMN "_strata_probe" ANY',
      'ALTER TABLE "users" DROP COLUMN "_strata_probe"',
    ])
    expect(sqlOf({ kind: 'dropColumn', table: 'notes', column: 'n' })).toEqual([
      'CREATE TABLE "_strata_new_notes" (body TEXT)',
      'INSERT INTO "_strata_new_notes" ("rowid", "body") SELECT rowid, "body" FROM "notes"',
      'DROP TABLE "notes"',
      'ALTER TABLE "_strata_new_notes" RENAME TO "notes"',
    ])
  })

  it('renameColumn natively', () => {
    expect(sqlOf({ kind: 'renameColumn', table: 'users', from: 'bio', to: 'about' })).toEqual(['ALTER TABLE "users" RENAME COLUMN "bio" TO "about"'])
  })

  it('alterColumn by rebuild: type, nullability, default; using in the copy', () => {
    const statements = compile({ kind: 'alterColumn', table: 'users', column: 'age', change: { type: 'text', nullable: false, default: null, using: "age || ' years'" } })
    expect(statements.map((s) => s.sql)).toEqual(
      usersRebuild(
        '("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "age" TEXT NOT NULL, "bio" TEXT)',
        ALL,
        `"id", "email", (age || ' years'), "bio"`,
      ),
    )
    expect(statements[4]?.params).toEqual(['_strata_new_users'])
    expect(statements[5]?.params).toEqual(['_strata_new_users', 'users'])
    expect(sqlOf({ kind: 'alterColumn', table: 'notes', column: 'body', change: { default: 'x' } })[0]).toBe(
      'CREATE TABLE "_strata_new_notes" (body TEXT DEFAULT \'x\', n INT, CONSTRAINT n_pos CHECK (n > 0))',
    )
  })
})

describe('sqlite compiler: indexes', () => {
  it('createIndex (unique, partial, ifNotExists; concurrently ignored), dropIndex', () => {
    expect(sqlOf({ kind: 'createIndex', name: 'i', table: 'users', columns: ['email', 'age'], unique: true, where: 'age > 0', ifNotExists: true, concurrently: true })).toEqual([
      'CREATE UNIQUE INDEX IF NOT EXISTS "i" ON "users" ("email", "age") WHERE age > 0',
    ])
    expect(sqlOf({ kind: 'createIndex', name: 'i', table: 'users', columns: ['email'] })).toEqual(['CREATE INDEX "i" ON "users" ("email")'])
    expect(sqlOf({ kind: 'dropIndex', name: 'i', ifExists: true, concurrently: true })).toEqual(['DROP INDEX IF EXISTS "i"'])
    expect(sqlOf({ kind: 'dropIndex', name: 'i', table: 'users' })).toEqual(['DROP INDEX "i"'])
  })
})

describe('sqlite compiler: constraints', () => {
  const notes = (definition: string): string[] => [
    `CREATE TABLE "_strata_new_notes" ${definition}`,
    'INSERT INTO "_strata_new_notes" ("rowid", "body", "n") SELECT rowid, "body", "n" FROM "notes"',
    'DROP TABLE "notes"',
    'ALTER TABLE "_strata_new_notes" RENAME TO "notes"',
  ]
  it('addUniqueConstraint, addCheckConstraint, addForeignKey: the named constraint in the rebuilt table', () => {
    expect(sqlOf({ kind: 'addUniqueConstraint', name: 'u', table: 'notes', columns: ['body', 'n'] })).toEqual(
      notes('(body TEXT, n INT, CONSTRAINT n_pos CHECK (n > 0), CONSTRAINT "u" UNIQUE ("body", "n"))'),
    )
    expect(sqlOf({ kind: 'addCheckConstraint', name: 'c', table: 'notes', expression: " body <> '' " })).toEqual(
      notes('(body TEXT, n INT, CONSTRAINT n_pos CHECK (n > 0), CONSTRAINT "c" CHECK (body <> \'\'))'),
    )
    expect(sqlOf({ kind: 'addForeignKey', name: 'f', table: 'notes', columns: ['n'], refTable: 'users', refColumns: ['id'], onDelete: 'cascade' })).toEqual(
      notes('(body TEXT, n INT, CONSTRAINT n_pos CHECK (n > 0), CONSTRAINT "f" FOREIGN KEY ("n") REFERENCES "users" ("id") ON DELETE CASCADE)'),
    )
  })

  it('dropConstraint removes the named constraint', () => {
    expect(sqlOf({ kind: 'dropConstraint', name: 'N_POS', table: 'notes' })).toEqual(notes('(body TEXT, n INT)'))
  })

  it('refuses unknown or duplicate names, missing columns and tables with E_MIGRATION_FAILED', () => {
    const fails = (op: Operation, message: string): void => {
      let error: unknown
      try {
        compile(op)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(StrataError)
      expect((error as StrataError).code).toBe('E_MIGRATION_FAILED')
      expect((error as StrataError).message).toBe(message)
    }
    fails({ kind: 'dropConstraint', name: 'nope', table: 'notes' }, 'constraint `nope` does not exist on table `notes`')
    fails({ kind: 'addCheckConstraint', name: 'n_pos', table: 'notes', expression: '1' }, 'constraint `n_pos` already exists on table `notes`')
    fails({ kind: 'alterColumn', table: 'notes', column: 'zzz', change: { nullable: false } }, 'column `zzz` does not exist in table `notes`')
    fails({ kind: 'addUniqueConstraint', name: 'u', table: 'ghost', columns: ['a'] }, 'table `ghost` does not exist')
  })

  it('refuses a referential action that is not one', () => {
    expect(() => sqlOf({ kind: 'addForeignKey', name: 'f', table: 'notes', columns: ['n'], refTable: 'users', refColumns: ['id'], onDelete: 'CASCADE; DROP TABLE x' })).toThrow(
      /is not a referential action/,
    )
  })
})

describe('sqlite compiler: execute and batches', () => {
  it('execute passes sql and params through', () => {
    expect(compile({ kind: 'execute', sql: 'UPDATE t SET a = ? WHERE b = ?', params: [true, null] })).toEqual([
      { sql: 'UPDATE t SET a = ? WHERE b = ?', params: [true, null] },
    ])
  })

  it('batchAlterTable of native ops: one statement each, in order, without the live table', () => {
    const op: Operation = {
      kind: 'batchAlterTable',
      table: 'ghost',
      ops: [
        { kind: 'addColumn', table: 'ghost', column: { name: 'a', type: 'text' } },
        { kind: 'renameColumn', table: 'ghost', from: 'a', to: 'b' },
        { kind: 'createIndex', table: 'ghost', name: 'i', columns: ['b'] },
        { kind: 'dropIndex', table: 'ghost', name: 'i' },
      ],
    }
    expect(sqliteTablesToInspect(op)).toEqual([])
    expect(sqlOf(op)).toEqual([
      'ALTER TABLE "ghost" ADD COLUMN "a" TEXT',
      'ALTER TABLE "ghost" RENAME COLUMN "a" TO "b"',
      'CREATE INDEX "i" ON "ghost" ("b")',
      'DROP INDEX "i"',
    ])
  })

  it('batchAlterTable with a dropColumn that can be native stays native', () => {
    expect(sqlOf({ kind: 'batchAlterTable', table: 'users', ops: [
      { kind: 'dropColumn', table: 'users', column: 'bio' },
      { kind: 'addColumn', table: 'users', column: { name: 'x', type: 'text' } },
    ] })).toEqual(['ALTER TABLE "users" DROP COLUMN "bio"', 'ALTER TABLE "users" ADD COLUMN "x" TEXT'])
  })

  it('batchAlterTable needing a rebuild: ONE rebuild in the old names, then the renames', () => {
    expect(sqlOf({ kind: 'batchAlterTable', table: 'notes', ops: [
      { kind: 'renameColumn', table: 'notes', from: 'n', to: 'count' },
      { kind: 'renameColumn', table: 'notes', from: 'body', to: 'n' },
      { kind: 'addCheckConstraint', table: 'notes', name: 'c', expression: 'count < 10 AND length(n) > 0' },
      { kind: 'createIndex', table: 'notes', name: 'i', columns: ['count'], where: 'n IS NOT NULL' },
      { kind: 'addColumn', table: 'notes', column: { name: 'body', type: 'text', default: '' } },
    ] })).toEqual([
      'CREATE TABLE "_strata_new_notes" (body TEXT, n INT, "body_strata_1" TEXT DEFAULT \'\', CONSTRAINT n_pos CHECK (n > 0), CONSTRAINT "c" CHECK ("n" < 10 AND length("body") > 0))',
      'INSERT INTO "_strata_new_notes" ("rowid", "body", "n") SELECT rowid, "body", "n" FROM "notes"',
      'DROP TABLE "notes"',
      'ALTER TABLE "_strata_new_notes" RENAME TO "notes"',
      'CREATE INDEX "i" ON "notes" ("n") WHERE "body" IS NOT NULL',
      'ALTER TABLE "notes" RENAME COLUMN "n" TO "count"',
      'ALTER TABLE "notes" RENAME COLUMN "body" TO "n"',
      'ALTER TABLE "notes" RENAME COLUMN "body_strata_1" TO "body"',
    ])
  })
})

describe('sqlite compiler: tablesToInspect', () => {
  it('asks for the table only when the op may need its definition', () => {
    const t = sqliteTablesToInspect
    expect(t({ kind: 'createTable', table: 'x', columns: [{ name: 'a', type: 'text' }] })).toEqual([])
    expect(t({ kind: 'renameColumn', table: 'x', from: 'a', to: 'b' })).toEqual([])
    expect(t({ kind: 'createIndex', table: 'x', name: 'i', columns: ['a'] })).toEqual([])
    expect(t({ kind: 'addColumn', table: 'x', column: { name: 'a', type: 'text' } })).toEqual([])
    expect(t({ kind: 'addColumn', table: 'x', column: { name: 'a', type: 'text', unique: true } })).toEqual(['x'])
    expect(t({ kind: 'dropColumn', table: 'x', column: 'a' })).toEqual(['x'])
    expect(t({ kind: 'alterColumn', table: 'x', column: 'a', change: { nullable: true } })).toEqual(['x'])
    expect(t({ kind: 'dropConstraint', table: 'x', name: 'c' })).toEqual(['x'])
    expect(t({ kind: 'batchAlterTable', table: 'x', ops: [{ kind: 'dropColumn', table: 'x', column: 'a' }] })).toEqual(['x'])
  })
})

describe('shared rendering', () => {
  it('maps portable types; json is TEXT (never NUMERIC affinity); others pass through', () => {
    expect(['integer', 'BIGINT', 'text', 'varchar(20)', 'boolean', 'real', 'numeric', 'numeric(5)', 'date', 'timestamp', 'json', 'blob', 'uuid', 'jsonb', ' int8 '].map(sqliteType)).toEqual(
      ['INTEGER', 'INTEGER', 'TEXT', 'VARCHAR(20)', 'BOOLEAN', 'REAL', 'NUMERIC', 'NUMERIC(5)', 'DATE', 'TIMESTAMP', 'TEXT', 'BLOB', 'TEXT', 'jsonb', 'int8'],
    )
    expect(parsePortableType('text(5)')).toBeUndefined()
    expect(parsePortableType('numeric(10,2)')).toEqual({ kind: 'numeric', precision: 10, scale: 2 })
  })

  it('renders literals and refuses values SQL cannot write', () => {
    expect([renderLiteral("a'b"), renderLiteral(1e21), renderLiteral(-3n), renderLiteral(true), renderLiteral(null), renderLiteral(new Uint8Array([10])), renderLiteral({ sql: '1+1' })]).toEqual(
      ["'a''b'", '1e+21', '-3', '1', 'NULL', "X'0a'", '(1+1)'],
    )
    expect(() => renderLiteral(Number.NaN)).toThrow(StrataError)
  })

  it('refuses autoIncrement on a column that is not the primary key', () => {
    expect(() => sqlOf({ kind: 'createTable', table: 't', columns: [{ name: 'a', type: 'integer', autoIncrement: true }] })).toThrow(/not the primary key/)
  })
})
