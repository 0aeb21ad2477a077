import { StrataError } from '../../../errors/index.js'
import type { ColumnDef, ForeignKeyRef, Value } from '../../../ops/operation.js'
import { quoteDoubled as q } from '../../shared/identifiers.js'
import { isSqlExpression, renderLiteral } from '../../shared/literals.js'
import { precisionSuffix, renderType, type TypeRenderer } from '../../shared/types.js'
import { referencesClause, referentialAction } from '../../shared/references.js'

export { referencesClause, referentialAction }

/**
 * Portable types in SQLite. `json` and `uuid` become TEXT: a declared type JSON would get
 * NUMERIC affinity and turn `'1'` into 1. `bigint` is INTEGER so it can be a rowid alias.
 */
export const SQLITE_TYPES: TypeRenderer = {
  integer: () => 'INTEGER',
  bigint: () => 'INTEGER',
  text: () => 'TEXT',
  varchar: (t) => (t.length === undefined ? 'VARCHAR' : `VARCHAR(${t.length})`),
  boolean: () => 'BOOLEAN',
  real: () => 'REAL',
  numeric: (t) => `NUMERIC${precisionSuffix(t.precision, t.scale)}`,
  date: () => 'DATE',
  timestamp: () => 'TIMESTAMP',
  json: () => 'TEXT',
  blob: () => 'BLOB',
  uuid: () => 'TEXT',
}

/** A column type in SQLite: portable types mapped, anything else as written. */
export function sqliteType(type: string): string {
  return renderType(type, SQLITE_TYPES)
}

/** `DEFAULT <literal>`; DDL cannot bind parameters, so the value is an escaped literal. */
export function defaultClause(value: Value): string {
  return `DEFAULT ${renderLiteral(value)}`
}


export interface ColumnRenderOptions {
  /** The column is part of a table-level PRIMARY KEY (so it gets NOT NULL, as on other engines). */
  readonly inTablePrimaryKey?: boolean
  /** Render `primaryKey` at table level instead (several columns marked primaryKey). */
  readonly suppressPrimaryKey?: boolean
}

/**
 * A column definition, clauses in a fixed order (PRIMARY KEY, NOT NULL, UNIQUE, DEFAULT,
 * REFERENCES) that the rebuild follows too, so a change and its inverse give back the same
 * CREATE TABLE text. Primary-key columns are NOT NULL unless `nullable: true`, except a rowid
 * alias (`INTEGER PRIMARY KEY`), which can never hold NULL anyway.
 */
export function renderColumn(column: ColumnDef, options: ColumnRenderOptions = {}): string {
  const type = sqliteType(column.type)
  const columnPk = column.primaryKey === true && !options.suppressPrimaryKey
  if (column.autoIncrement && !column.primaryKey) {
    throw new StrataError('E_MIGRATION_FILE', `column \`${column.name}\` has autoIncrement but is not the primary key`, {
      hint: 'add primaryKey: true (SQLite numbers only an INTEGER PRIMARY KEY), or drop autoIncrement',
    })
  }
  const parts = [q(column.name), type]
  if (columnPk) parts.push(column.autoIncrement ? 'PRIMARY KEY AUTOINCREMENT' : 'PRIMARY KEY')
  const rowidAlias = columnPk && type.toUpperCase() === 'INTEGER'
  const inPk = columnPk || options.inTablePrimaryKey === true || (column.primaryKey === true && options.suppressPrimaryKey)
  if (column.nullable === false || (inPk && column.nullable !== true && !rowidAlias)) parts.push('NOT NULL')
  if (column.unique) parts.push('UNIQUE')
  if (column.default !== undefined) parts.push(defaultClause(column.default))
  if (column.references) parts.push(columnReferences(column.references))
  return parts.filter((p) => p !== '').join(' ')
}

function columnReferences(ref: ForeignKeyRef): string {
  return referencesClause(ref.table, [ref.column], ref)
}

/**
 * Whether `ALTER TABLE … ADD COLUMN` can add this column (SQLite manual, ALTER TABLE): not a
 * PRIMARY KEY or UNIQUE column, no expression default (CURRENT_TIMESTAMP and the like are
 * written as `{ sql }`), NOT NULL only with a non-null default, and a REFERENCES column only
 * with a NULL default (the rule when foreign keys are enforced). Otherwise the table is rebuilt.
 */
export function canAddNatively(column: ColumnDef): boolean {
  if (column.primaryKey || column.unique || column.autoIncrement) return false
  if (isSqlExpression(column.default)) return false
  const hasDefault = column.default !== undefined && column.default !== null
  if (column.nullable === false && !hasDefault) return false
  if (column.references && hasDefault) return false
  return true
}
