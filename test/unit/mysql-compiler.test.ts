import { describe, expect, it } from 'vitest'
import type { CompileContext, Statement } from '../../src/dialects/dialect.js'
import { mysqlLiteral, mysqlType } from '../../src/dialects/mysql/compiler/column-sql.js'
import { mysqlCompiler, mysqlTablesToInspect } from '../../src/dialects/mysql/mysql-compiler.js'
import type { MysqlTableSnapshot } from '../../src/dialects/mysql/mysql-introspector.js'
import { StrataError } from '../../src/errors/index.js'
import type { Operation } from '../../src/ops/operation.js'

// Exact SQL of every op (the compiler is pure); the live table is hand-written where one is needed.

const USERS: MysqlTableSnapshot = {
  name: 'users',
  columns: [
    { name: 'id', type: 'int(11)', nullable: false, default: null, primaryKey: 1, autoIncrement: true },
    { name: 'email', type: 'varchar(120)', nullable: false, default: "'a''b'", primaryKey: 0 },
    { name: 'bio', type: 'text', nullable: true, default: null, primaryKey: 0 },
  ],
  indexes: [],
  constraints: [
    { name: 'PRIMARY', kind: 'primaryKey', columns: ['id'] },
    { name: 'users_email_uq', kind: 'unique', columns: ['email'] },
    { name: 'users_ck', kind: 'check', columns: [], expression: '1' },
    { name: 'users_org_fk', kind: 'foreignKey', columns: ['org'], refTable: 'orgs', refColumns: ['id'] },
    { name: 'users_team_fk', kind: 'foreignKey', columns: ['team'], refTable: 'teams', refColumns: ['id'] },
  ],
  foreignKeyIndexes: ['users_org_fk'],
}
const ctx: CompileContext = { table: (name) => (name === 'users' ? USERS : undefined) }
const none: CompileContext = { table: () => undefined }

function compile(op: Operation, context: CompileContext = ctx): readonly Statement[] {
  return (mysqlCompiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[])(op, context)
}
const sqlOf = (op: Operation, context: CompileContext = ctx): string[] => compile(op, context).map((s) => s.sql)
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError)
    return (error as StrataError).code
  }
  return undefined
}

describe('mysql compiler: types and literals', () => {
  it('maps every portable type and passes engine types through', () => {
    const cases: Array<[string, string]> = [
      ['integer', 'int'], ['BIGINT', 'bigint'], ['text', 'text'], ['varchar(20)', 'varchar(20)'], ['varchar', 'varchar(255)'],
      ['boolean', 'tinyint(1)'], ['real', 'double'], ['numeric(10, 2)', 'decimal(10,2)'], ['numeric', 'decimal'], ['date', 'date'],
      ['timestamp', 'datetime(6)'], ['json', 'json'], ['blob', 'longblob'], ['uuid', 'char(36)'], [' mediumint unsigned ', 'mediumint unsigned'],
    ]
    for (const [portable, native] of cases) expect(mysqlType(portable), portable).toBe(native)
  })

  it('writes DDL literals: TRUE/FALSE, X\'..\', quotes doubled and backslashes escaped, expressions in parentheses', () => {
    expect(mysqlLiteral(true)).toBe('TRUE')
    expect(mysqlLiteral(false)).toBe('FALSE')
    expect(mysqlLiteral(new Uint8Array([0xde, 0xad, 0x00]))).toBe("X'dead00'")
    expect(mysqlLiteral("it's \\n")).toBe("'it''s \\\\n'")
    expect(mysqlLiteral(null)).toBe('NULL')
    expect(mysqlLiteral(12345678901234567890n)).toBe('12345678901234567890')
    expect(mysqlLiteral({ sql: 'uuid()' })).toBe('(uuid())')
    expect(() => mysqlLiteral(Number.NaN)).toThrow(StrataError)
  })
})

describe('mysql compiler: tables and columns', () => {
  it('createTable: backticks doubled, clauses in order, AUTO_INCREMENT key, named table-level foreign keys', () => {
    expect(sqlOf({
      kind: 'createTable',
      table: 'a`b',
      ifNotExists: true,
      columns: [
        { name: 'id', type: 'bigint', primaryKey: true, autoIncrement: true },
        { name: 'org', type: 'integer', nullable: false, default: 0, references: { table: 'orgs', column: 'id', onDelete: 'cascade' } },
        { name: 'code', type: 'varchar(8)', unique: true, default: "x'y" },
        { name: 'on', type: 'boolean', default: true },
      ],
    })).toEqual(["CREATE TABLE IF NOT EXISTS `a``b` (`id` bigint AUTO_INCREMENT PRIMARY KEY, `org` int NOT NULL DEFAULT 0, `code` varchar(8) DEFAULT 'x''y' UNIQUE, `on` tinyint(1) DEFAULT TRUE, CONSTRAINT `a``b_org_fkey` FOREIGN KEY (`org`) REFERENCES `orgs` (`id`) ON DELETE CASCADE)"])
  })

  it('createTable: a composite key is a table-level clause, and may hold the AUTO_INCREMENT column', () => {
    expect(sqlOf({ kind: 'createTable', table: 't', primaryKey: ['id', 'v'], columns: [{ name: 'id', type: 'integer', autoIncrement: true }, { name: 'v', type: 'integer' }] }))
      .toEqual(['CREATE TABLE `t` (`id` int AUTO_INCREMENT, `v` int, PRIMARY KEY (`id`, `v`))'])
    expect(sqlOf({ kind: 'createTable', table: 't', columns: [{ name: 'a', type: 'integer', primaryKey: true }, { name: 'b', type: 'integer', primaryKey: true }] }))
      .toEqual(['CREATE TABLE `t` (`a` int, `b` int, PRIMARY KEY (`a`, `b`))'])
  })

  it('createTable refuses what MySQL cannot do, before the server does', () => {
    expect(codeOf(() => compile({ kind: 'createTable', table: 't', columns: [{ name: 'id', type: 'integer', autoIncrement: true }] }))).toBe('E_MIGRATION_FILE')
    expect(codeOf(() => compile({ kind: 'createTable', table: 't', columns: [{ name: 'id', type: 'integer', primaryKey: true, autoIncrement: true, default: 1 }] }))).toBe('E_MIGRATION_FILE')
    expect(codeOf(() => compile({ kind: 'createTable', table: 't', columns: [{ name: 'b', type: 'text', unique: true }] }))).toBe('E_MIGRATION_FILE')
    expect(codeOf(() => compile({ kind: 'createTable', table: 't', columns: [{ name: 'b', type: 'blob', primaryKey: true }] }))).toBe('E_MIGRATION_FILE')
    expect(codeOf(() => compile({ kind: 'createTable', table: 't', primaryKey: ['j'], columns: [{ name: 'j', type: 'json' }] }))).toBe('E_MIGRATION_FILE')
  })

  it('dropTable, renameTable, addColumn (with its foreign key), dropColumn, renameColumn', () => {
    expect(sqlOf({ kind: 'dropTable', table: 't', ifExists: true })).toEqual(['DROP TABLE IF EXISTS `t`'])
    expect(sqlOf({ kind: 'dropTable', table: 't' })).toEqual(['DROP TABLE `t`'])
    expect(sqlOf({ kind: 'renameTable', from: 'a', to: 'b' })).toEqual(['ALTER TABLE `a` RENAME TO `b`'])
    expect(sqlOf({ kind: 'addColumn', table: 't', column: { name: 'c', type: 'timestamp', nullable: false, default: { sql: 'CURRENT_TIMESTAMP(6)' } } }))
      .toEqual(['ALTER TABLE `t` ADD COLUMN `c` datetime(6) NOT NULL DEFAULT (CURRENT_TIMESTAMP(6))'])
    expect(sqlOf({ kind: 'addColumn', table: 't', column: { name: 'o', type: 'integer', references: { table: 'orgs', column: 'id', onUpdate: 'set null' } } }))
      .toEqual(['ALTER TABLE `t` ADD COLUMN `o` int, ADD CONSTRAINT `t_o_fkey` FOREIGN KEY (`o`) REFERENCES `orgs` (`id`) ON UPDATE SET NULL'])
    expect(sqlOf({ kind: 'dropColumn', table: 't', column: 'c' })).toEqual(['ALTER TABLE `t` DROP COLUMN `c`'])
    expect(sqlOf({ kind: 'renameColumn', table: 't', from: 'a', to: 'b' })).toEqual(['ALTER TABLE `t` RENAME COLUMN `a` TO `b`'])
  })

  it('alterColumn restates the whole live column in MODIFY COLUMN', () => {
    expect(sqlOf({ kind: 'alterColumn', table: 'users', column: 'email', change: { nullable: true } }))
      .toEqual(["ALTER TABLE `users` MODIFY COLUMN `email` varchar(120) NULL DEFAULT 'a''b'"])
    expect(sqlOf({ kind: 'alterColumn', table: 'users', column: 'email', change: { type: 'text', default: null } }))
      .toEqual(['ALTER TABLE `users` MODIFY COLUMN `email` text NOT NULL'])
    expect(sqlOf({ kind: 'alterColumn', table: 'users', column: 'id', change: { type: 'bigint' } }))
      .toEqual(['ALTER TABLE `users` MODIFY COLUMN `id` bigint NOT NULL AUTO_INCREMENT'])
    expect(sqlOf({ kind: 'alterColumn', table: 'users', column: 'bio', change: { type: 'integer', using: 'length(bio)' } }))
      .toEqual(['UPDATE `users` SET `bio` = (length(bio))', 'ALTER TABLE `users` MODIFY COLUMN `bio` int NULL'])
    expect(sqlOf({ kind: 'alterColumn', table: 'users', column: 'bio', change: {} })).toEqual([])
    expect(codeOf(() => compile({ kind: 'alterColumn', table: 'users', column: 'ghost', change: { nullable: false } }))).toBe('E_MIGRATION_FAILED')
    expect(codeOf(() => compile({ kind: 'alterColumn', table: 'users', column: 'bio', change: { nullable: false } }, none))).toBe('E_MIGRATION_FAILED')
  })
})

describe('mysql compiler: indexes and constraints', () => {
  it('createIndex: unique, IF NOT EXISTS, concurrently as ALGORITHM=INPLACE LOCK=NONE; partial and text keys refused', () => {
    expect(sqlOf({ kind: 'createIndex', name: 'i', table: 'users', columns: ['email', 'id'], unique: true, ifNotExists: true }))
      .toEqual(['CREATE UNIQUE INDEX IF NOT EXISTS `i` ON `users` (`email`, `id`)'])
    expect(sqlOf({ kind: 'createIndex', name: 'i', table: 'users', columns: ['email'], concurrently: true }))
      .toEqual(['CREATE INDEX `i` ON `users` (`email`) ALGORITHM=INPLACE LOCK=NONE'])
    expect(codeOf(() => compile({ kind: 'createIndex', name: 'i', table: 'users', columns: ['email'], where: 'id > 0' }))).toBe('E_MIGRATION_FILE')
    expect(codeOf(() => compile({ kind: 'createIndex', name: 'i', table: 'users', columns: ['bio'] }))).toBe('E_MIGRATION_FILE')
  })

  it('dropIndex needs the table', () => {
    expect(sqlOf({ kind: 'dropIndex', name: 'i', table: 'users', ifExists: true })).toEqual(['DROP INDEX IF EXISTS `i` ON `users`'])
    expect(sqlOf({ kind: 'dropIndex', name: 'i', table: 'users', concurrently: true })).toEqual(['DROP INDEX `i` ON `users` ALGORITHM=INPLACE LOCK=NONE'])
    expect(codeOf(() => compile({ kind: 'dropIndex', name: 'i' }))).toBe('E_MIGRATION_FILE')
  })

  it('adds unique, check and foreign-key constraints', () => {
    expect(sqlOf({ kind: 'addUniqueConstraint', name: 'u', table: 'users', columns: ['email'] })).toEqual(['ALTER TABLE `users` ADD CONSTRAINT `u` UNIQUE (`email`)'])
    expect(codeOf(() => compile({ kind: 'addUniqueConstraint', name: 'u', table: 'users', columns: ['bio'] }))).toBe('E_MIGRATION_FILE')
    expect(sqlOf({ kind: 'addCheckConstraint', name: 'c', table: 'users', expression: ' id > 0 ' })).toEqual(['ALTER TABLE `users` ADD CONSTRAINT `c` CHECK (id > 0)'])
    expect(sqlOf({ kind: 'addForeignKey', name: 'f', table: 'users', columns: ['org'], refTable: 'orgs', refColumns: ['id'], onDelete: 'restrict' }))
      .toEqual(['ALTER TABLE `users` ADD CONSTRAINT `f` FOREIGN KEY (`org`) REFERENCES `orgs` (`id`) ON DELETE RESTRICT'])
    expect(codeOf(() => compile({ kind: 'addForeignKey', name: 'f', table: 'users', columns: ['org'], refTable: 'orgs', refColumns: ['id'], onDelete: 'drop table x' }))).toBe('E_MIGRATION_FILE')
  })

  it('dropConstraint picks the clause from the live constraint kind', () => {
    const drop = (name: string, context: CompileContext = ctx) => sqlOf({ kind: 'dropConstraint', name, table: 'users' }, context)
    expect(drop('users_email_uq')).toEqual(['ALTER TABLE `users` DROP INDEX `users_email_uq`'])
    expect(drop('users_ck')).toEqual(['ALTER TABLE `users` DROP CONSTRAINT `users_ck`'])
    expect(drop('PRIMARY')).toEqual(['ALTER TABLE `users` DROP PRIMARY KEY'])
    expect(drop('users_org_fk')).toEqual(['ALTER TABLE `users` DROP FOREIGN KEY `users_org_fk`', 'DROP INDEX `users_org_fk` ON `users`'])
    expect(drop('users_team_fk')).toEqual(['ALTER TABLE `users` DROP FOREIGN KEY `users_team_fk`'])
    expect(drop('users_ck', none)).toEqual(['ALTER TABLE `users` DROP CONSTRAINT `users_ck`'])
    expect(codeOf(() => drop('ghost'))).toBe('E_MIGRATION_FAILED')
  })
})

describe('mysql compiler: execute, batches, tablesToInspect', () => {
  it('execute keeps ? placeholders and inlines { sql } values', () => {
    expect(compile({ kind: 'execute', sql: 'UPDATE t SET a = ? WHERE b = ?', params: [{ sql: 'now()' }, 2] }))
      .toEqual([{ sql: 'UPDATE t SET a = (now()) WHERE b = ?', params: [2] }])
  })

  it('batchAlterTable: one statement per op, later ops see the earlier ones', () => {
    expect(sqlOf({
      kind: 'batchAlterTable',
      table: 'users',
      ops: [
        { kind: 'addColumn', table: 'users', column: { name: 'c', type: 'varchar(5)', default: 'x' } },
        { kind: 'renameColumn', table: 'users', from: 'c', to: 'd' },
        { kind: 'alterColumn', table: 'users', column: 'd', change: { nullable: false } },
        { kind: 'createIndex', table: 'users', name: 'i', columns: ['d'] },
        { kind: 'dropIndex', table: 'users', name: 'i' },
        { kind: 'addForeignKey', table: 'users', name: 'f', columns: ['d'], refTable: 'o', refColumns: ['id'] },
        { kind: 'dropConstraint', table: 'users', name: 'f' },
        { kind: 'dropColumn', table: 'users', column: 'd' },
      ],
    }, none)).toEqual([
      "ALTER TABLE `users` ADD COLUMN `c` varchar(5) DEFAULT 'x'",
      'ALTER TABLE `users` RENAME COLUMN `c` TO `d`',
      "ALTER TABLE `users` MODIFY COLUMN `d` varchar(5) NOT NULL DEFAULT 'x'",
      'CREATE INDEX `i` ON `users` (`d`)',
      'DROP INDEX `i` ON `users`',
      'ALTER TABLE `users` ADD CONSTRAINT `f` FOREIGN KEY (`d`) REFERENCES `o` (`id`)',
      'ALTER TABLE `users` DROP FOREIGN KEY `f`',
      'ALTER TABLE `users` DROP COLUMN `d`',
    ])
  })

  it('tablesToInspect names the table for the ops that read it', () => {
    expect(mysqlTablesToInspect({ kind: 'alterColumn', table: 't', column: 'c', change: {} })).toEqual(['t'])
    expect(mysqlTablesToInspect({ kind: 'dropConstraint', table: 't', name: 'c' })).toEqual(['t'])
    expect(mysqlTablesToInspect({ kind: 'createIndex', table: 't', name: 'i', columns: ['c'] })).toEqual(['t'])
    expect(mysqlTablesToInspect({ kind: 'addUniqueConstraint', table: 't', name: 'u', columns: ['c'] })).toEqual(['t'])
    expect(mysqlTablesToInspect({ kind: 'batchAlterTable', table: 't', ops: [{ kind: 'dropConstraint', table: 't', name: 'c' }] })).toEqual(['t'])
    expect(mysqlTablesToInspect({ kind: 'batchAlterTable', table: 't', ops: [{ kind: 'dropColumn', table: 't', column: 'c' }] })).toEqual([])
    expect(mysqlTablesToInspect({ kind: 'dropTable', table: 't' })).toEqual([])
    expect(mysqlTablesToInspect({ kind: 'addColumn', table: 't', column: { name: 'c', type: 'text' } })).toEqual([])
  })
})
