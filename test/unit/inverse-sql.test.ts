import { describe, expect, it } from 'vitest'
import { inverseSql } from '../../src/runner/inverse-sql.js'

const inv = (sql: string): string | null => {
  const r = inverseSql(sql, 'mysql')
  return 'sql' in r ? r.sql : null
}

describe('inverseSql (SPEC S4 statement journal)', () => {
  it('CREATE TABLE → DROP TABLE, quoted names kept as written', () => {
    expect(inv('CREATE TABLE a (id int, x decimal(10,2))')).toBe('DROP TABLE a')
    expect(inv('create table `my table` (id int);')).toBe('DROP TABLE `my table`')
    expect(inv('-- comment\n/* c */ CREATE TABLE "q"."t" (id int)')).toBe('DROP TABLE "q"."t"')
    expect(inv('CREATE TABLE b LIKE a')).toBe('DROP TABLE b')
  })
  it('CREATE [UNIQUE] INDEX → DROP INDEX ON', () => {
    expect(inv('CREATE INDEX ia ON a (x)')).toBe('DROP INDEX ia ON a')
    expect(inv('CREATE UNIQUE INDEX `u i` USING BTREE ON `a` (x)')).toBe('DROP INDEX `u i` ON `a`')
  })
  it('ALTER TABLE ADD [COLUMN] → DROP COLUMN', () => {
    expect(inv('ALTER TABLE a ADD COLUMN x int')).toBe('ALTER TABLE a DROP COLUMN x')
    expect(inv('ALTER TABLE a ADD `y` decimal(10,2) NOT NULL DEFAULT 0')).toBe('ALTER TABLE a DROP COLUMN `y`')
    expect(inv("ALTER TABLE a ADD e enum('p,q', 'r')")).toBe('ALTER TABLE a DROP COLUMN e')
  })
  it('renames → renamed back', () => {
    expect(inv('ALTER TABLE a RENAME TO b')).toBe('ALTER TABLE b RENAME TO a')
    expect(inv('ALTER TABLE a RENAME b')).toBe('ALTER TABLE b RENAME TO a')
    expect(inv('ALTER TABLE a RENAME COLUMN x TO `y`')).toBe('ALTER TABLE a RENAME COLUMN `y` TO x')
    expect(inv('RENAME TABLE a TO b')).toBe('RENAME TABLE b TO a')
  })
  it('CREATE VIEW → DROP VIEW', () => {
    expect(inv('CREATE VIEW v AS SELECT 1')).toBe('DROP VIEW v')
    expect(inv('CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `v` AS SELECT 1')).toBe('DROP VIEW `v`')
  })
  it('no inverse for data changes, drops, multi-clause ALTERs and conditional forms', () => {
    for (const sql of [
      'INSERT INTO a VALUES (1)',
      'UPDATE a SET x = 1',
      'DELETE FROM a',
      'DROP TABLE a',
      'ALTER TABLE a ADD COLUMN x int, ADD COLUMN y int',
      'ALTER TABLE a ADD INDEX i (x)',
      'ALTER TABLE a ADD CONSTRAINT c UNIQUE (x)',
      'ALTER TABLE a DROP COLUMN x',
      'ALTER TABLE a MODIFY x bigint',
      'CREATE TABLE IF NOT EXISTS a (id int)',
      'CREATE OR REPLACE VIEW v AS SELECT 1',
      'CREATE TEMPORARY TABLE t (id int)',
      'CREATE TABLE a (id int); DROP TABLE b',
      '/*!50001 CREATE TABLE a (id int) */',
      "CREATE TABLE 'a' (id int)",
    ]) {
      expect(inverseSql(sql, 'mysql'), sql).toHaveProperty('reason')
    }
    expect(inverseSql('INSERT INTO a VALUES (1)', 'mysql')).toEqual({ reason: 'INSERT changes data, which cannot be undone' })
  })
  it('keywords inside strings and comments do not confuse it', () => {
    expect(inv("CREATE TABLE a (note varchar(9) DEFAULT 'DROP, x') -- , ADD")).toBe('DROP TABLE a')
    expect(inv("ALTER TABLE a ADD COLUMN c varchar(5) DEFAULT ','")).toBe('ALTER TABLE a DROP COLUMN c')
  })
})
