import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectMysqlTables, introspectMysql, mysqlCatalogFingerprint } from '../../src/dialects/mysql/mysql-introspector.js'
import { diffSchemas } from '../../src/schema/diff.js'
import { apply, exec, openDatabase, type TempDatabase } from './mysql-harness.js'

// The introspector on the real server: views, triggers, strata's tables left out, json on
// MariaDB, fingerprint and diff on drift made behind strata's back.

let db: TempDatabase
beforeAll(async () => {
  db = await openDatabase()
  await apply(db.conn,
    { kind: 'createTable', table: 'users', columns: [
      { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
      { name: 'email', type: 'varchar(50)', nullable: false, unique: true },
      { name: 'doc', type: 'json' },
    ] },
    { kind: 'createTable', table: 'strata_history', columns: [{ name: 'revision', type: 'varchar(64)', primaryKey: true }] },
    { kind: 'createIndex', name: 'users_email_doc', table: 'users', columns: ['email', 'id'] },
  )
  await exec(db.conn,
    'CREATE VIEW active AS SELECT id, email FROM users WHERE id > 0',
    'CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW SET NEW.email = LOWER(NEW.email)',
    'CREATE TRIGGER strata_history_bi BEFORE INSERT ON strata_history FOR EACH ROW SET NEW.revision = NEW.revision',
  )
})
afterAll(async () => db.cleanup())

describe('mysql introspector', () => {
  it('reads tables, keys, views and triggers, leaving strata_* out', async () => {
    const schema = await introspectMysql(db.conn, 'STRATA_')
    expect(schema.tables.map((t) => t.name)).toEqual(['users'])
    const users = schema.tables[0]!
    expect(users.columns.map((c) => [c.name, c.type.replace(/\(11\)$/, ''), c.nullable, c.default, c.primaryKey, c.autoIncrement ?? false])).toEqual([
      ['id', 'int', false, null, 1, true],
      ['email', 'varchar(50)', false, null, 0, false],
      ['doc', 'json', true, null, 0, false],
    ])
    expect(users.constraints).toEqual([
      { name: 'PRIMARY', kind: 'primaryKey', columns: ['id'] },
      { name: 'email', kind: 'unique', columns: ['email'] },
    ])
    expect(users.indexes).toEqual([{ name: 'users_email_doc', columns: ['email', 'id'], unique: false, where: null }])
    expect(schema.views).toEqual([{ name: 'active', sql: 'select `users`.`id` AS `id`,`users`.`email` AS `email` from `users` where `users`.`id` > 0' }])
    expect(schema.triggers).toEqual([{ name: 'users_bi', table: 'users', sql: 'CREATE TRIGGER `users_bi` BEFORE INSERT ON `users` FOR EACH ROW SET NEW.email = LOWER(NEW.email)' }])
  })

  it('inspectMysqlTables returns the named tables only, with foreign-key indexes', async () => {
    const tables = await inspectMysqlTables(db.conn, ['users', 'ghost', 'strata_history'])
    expect([...tables.keys()].sort()).toEqual(['strata_history', 'users'])
    expect(tables.get('users')?.foreignKeyIndexes).toEqual([])
  })

  it('a column added behind strata\'s back changes the fingerprint, and diffSchemas names it', async () => {
    const before = await introspectMysql(db.conn, 'strata_')
    const fingerprint = await mysqlCatalogFingerprint(db.conn, 'strata_')
    expect(await mysqlCatalogFingerprint(db.conn, 'strata_')).toBe(fingerprint)
    await exec(db.conn, 'INSERT INTO strata_history VALUES (\'x\')', 'ALTER TABLE strata_history ADD COLUMN note text')
    expect(await mysqlCatalogFingerprint(db.conn, 'strata_')).toBe(fingerprint) // strata's own tables do not count
    await exec(db.conn, 'ALTER TABLE users ADD COLUMN sneaky int')
    expect(await mysqlCatalogFingerprint(db.conn, 'strata_')).not.toBe(fingerprint)
    expect(diffSchemas(before, await introspectMysql(db.conn, 'strata_'))).toEqual([{ kind: 'column', name: 'users.sneaky', change: 'added' }])
    await exec(db.conn, 'ALTER TABLE users DROP COLUMN sneaky')
    expect(await mysqlCatalogFingerprint(db.conn, 'strata_')).toBe(fingerprint)
  })
})
