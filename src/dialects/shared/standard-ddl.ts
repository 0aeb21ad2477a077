import type { OpOf } from '../../ops/operation.js'
import { quoteDoubled as q } from './identifiers.js'

/**
 * Statements SQLite and PostgreSQL spell the same way (standard SQL, double-quoted names).
 * MySQL quotes with backticks and has its own compiler.
 */

/** `DROP TABLE [IF EXISTS] "t"` (no CASCADE: a view still reading the table stops it). */
export function dropTableSql(op: OpOf<'dropTable'>): string {
  return `DROP TABLE ${op.ifExists ? 'IF EXISTS ' : ''}${q(op.table)}`
}

/** `ALTER TABLE "a" RENAME TO "b"`; both engines carry references along. */
export function renameTableSql(from: string, to: string): string {
  return `ALTER TABLE ${q(from)} RENAME TO ${q(to)}`
}

/** `ALTER TABLE "t" DROP COLUMN "c"`. */
export function dropColumnSql(table: string, column: string): string {
  return `ALTER TABLE ${q(table)} DROP COLUMN ${q(column)}`
}

/** `ALTER TABLE "t" RENAME COLUMN "a" TO "b"`. */
export function renameColumnSql(table: string, from: string, to: string): string {
  return `ALTER TABLE ${q(table)} RENAME COLUMN ${q(from)} TO ${q(to)}`
}
