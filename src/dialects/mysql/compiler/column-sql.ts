import { StrataError } from '../../../errors/index.js'
import type { ColumnDef, Value } from '../../../ops/operation.js'
import { quoteWith } from '../../shared/identifiers.js'
import { renderLiteral, type LiteralStyle } from '../../shared/literals.js'
import { referentialAction } from '../../shared/references.js'
import { precisionSuffix, renderType, type TypeRenderer } from '../../shared/types.js'

/** A backtick-quoted identifier, backticks inside doubled (SPEC S16). */
export const q = (name: string): string => quoteWith(name, '`')

/** A comma-separated list of backtick-quoted identifiers. */
export const qList = (names: readonly string[]): string => names.map(q).join(', ')

/**
 * Portable types in MySQL / MariaDB (SPEC S3). `boolean` is `tinyint(1)` (what `BOOLEAN` is an
 * alias of); `real` is `double` (8 bytes, as PostgreSQL's float8 would be: MySQL's `float` is
 * 4 bytes and rounds surprisingly); `timestamp` is `datetime(6)`: no time-zone conversion (like
 * PostgreSQL's `timestamp without time zone`), years 1000–9999 rather than MySQL `timestamp`'s
 * 1970–2038, microseconds as on PostgreSQL; `json` is `json` (MariaDB makes it `longtext` with a
 * `json_valid` check, which the introspector reports as `json` again); `blob` is `longblob`
 * (no 64 KiB limit); `uuid` is `char(36)` (MySQL has no uuid type; MariaDB's since 10.7 only).
 */
export const MYSQL_TYPES: TypeRenderer = {
  integer: () => 'int',
  bigint: () => 'bigint',
  text: () => 'text',
  varchar: (t) => (t.length === undefined ? 'varchar(255)' : `varchar(${t.length})`),
  boolean: () => 'tinyint(1)',
  real: () => 'double',
  numeric: (t) => `decimal${precisionSuffix(t.precision, t.scale)}`,
  date: () => 'date',
  timestamp: () => 'datetime(6)',
  json: () => 'json',
  blob: () => 'longblob',
  uuid: () => 'char(36)',
}

/**
 * Literals in MySQL DDL: strings with `''` doubling and backslashes doubled (the server reads
 * backslash escapes unless NO_BACKSLASH_ESCAPES is set), TRUE / FALSE, bytes as `X'..'`,
 * `{ sql }` in parentheses (an expression default; MySQL ≥ 8.0.13, MariaDB ≥ 10.2).
 */
export const MYSQL_LITERALS: LiteralStyle = { booleans: 'keyword', blob: (hex) => `X'${hex}'`, backslashEscapes: true }

/** A column type in MySQL: portable types mapped, anything else as written. */
export function mysqlType(type: string): string {
  return renderType(type, MYSQL_TYPES)
}

/** A value as a MySQL literal; DDL cannot bind parameters. */
export function mysqlLiteral(value: Value): string {
  return renderLiteral(value, MYSQL_LITERALS)
}

const UNINDEXABLE = /^\s*(tiny|medium|long)?(text|blob)\b|^\s*json\b/i

/**
 * Refuses a key (index, unique, primary key) over a TEXT / BLOB / JSON column: MySQL indexes
 * those only with a prefix length, which would make the key unique over the prefix alone. A
 * clear error (before anything runs) beats the server's "BLOB/TEXT column used in key
 * specification without a key length".
 */
export function assertIndexable(table: string, what: string, column: string, type: string | undefined): void {
  if (type === undefined || !UNINDEXABLE.test(type)) return
  throw new StrataError('E_MIGRATION_FILE', `${what} on \`${table}\` cannot cover \`${column}\`: MySQL cannot index a ${type.trim()} column without a prefix length`, {
    hint: `give \`${column}\` a bounded type such as varchar(255), or create a prefix index with op.execute()`,
  })
}

/** The full definition of an existing column, as `MODIFY COLUMN` needs it. */
export interface ColumnState {
  /** MySQL type as it will be written. */
  readonly type: string
  readonly nullable: boolean
  /** SQL text of the default, or null. */
  readonly default: string | null
  readonly autoIncrement: boolean
}

/** `type [NOT NULL|NULL] [DEFAULT x] [AUTO_INCREMENT]`, the shape MySQL reads. */
export function columnStateSql(state: ColumnState): string {
  let sql = `${state.type} ${state.nullable ? 'NULL' : 'NOT NULL'}`
  if (state.default !== null) sql += ` DEFAULT ${state.default}`
  if (state.autoIncrement) sql += ' AUTO_INCREMENT'
  return sql
}

/** The state a new column's definition gives it. */
export function stateOfDef(column: ColumnDef): ColumnState {
  return {
    type: mysqlType(column.type),
    nullable: column.nullable !== false && !column.primaryKey,
    default: column.default === undefined || column.default === null ? null : mysqlLiteral(column.default),
    autoIncrement: column.autoIncrement === true,
  }
}

/**
 * A column definition: `name type [NOT NULL] [DEFAULT x] [AUTO_INCREMENT] [UNIQUE] [PRIMARY
 * KEY]`. `autoIncrement` needs the column to be (part of) the primary key, as MySQL requires
 * an AUTO_INCREMENT column to be a key; it takes no default. `inlinePrimaryKey: false` leaves
 * PRIMARY KEY to a table-level clause. Foreign keys are table-level clauses (foreignKeyClause).
 */
export function renderColumn(table: string, column: ColumnDef, options: { readonly inlinePrimaryKey?: boolean; readonly inKey?: boolean } = {}): string {
  const type = mysqlType(column.type)
  const parts = [q(column.name), type]
  if (column.nullable === false) parts.push('NOT NULL')
  if (column.default !== undefined) parts.push(`DEFAULT ${mysqlLiteral(column.default)}`)
  if (column.autoIncrement) {
    if (column.default !== undefined) {
      throw new StrataError('E_MIGRATION_FILE', `column \`${column.name}\` has both autoIncrement and a default`, {
        hint: 'an AUTO_INCREMENT column numbers itself: drop the default, or drop autoIncrement',
      })
    }
    if (!column.primaryKey && !options.inKey) {
      throw new StrataError('E_MIGRATION_FILE', `column \`${column.name}\` of \`${table}\` is autoIncrement but not part of the primary key`, {
        hint: 'MySQL numbers only a key column: mark it primaryKey: true',
      })
    }
    parts.push('AUTO_INCREMENT')
  }
  if (column.unique) {
    assertIndexable(table, 'a unique column', column.name, type)
    parts.push('UNIQUE')
  }
  if (column.primaryKey) assertIndexable(table, 'the primary key', column.name, type)
  if (column.primaryKey && options.inlinePrimaryKey !== false) parts.push('PRIMARY KEY')
  return parts.join(' ')
}

/**
 * `CONSTRAINT n FOREIGN KEY (a) REFERENCES r (b) [ON DELETE x] [ON UPDATE y]`. A column's
 * `references` becomes a named table-level constraint `<table>_<column>_fkey` (PostgreSQL's
 * name for it): MySQL ignores an inline REFERENCES, and a fixed name keeps it droppable.
 */
export function foreignKeyClause(
  name: string,
  columns: readonly string[],
  refTable: string,
  refColumns: readonly string[],
  options: { readonly onDelete?: string; readonly onUpdate?: string },
): string {
  let sql = `CONSTRAINT ${q(name)} FOREIGN KEY (${qList(columns)}) REFERENCES ${q(refTable)} (${qList(refColumns)})`
  if (options.onDelete !== undefined) sql += ` ON DELETE ${referentialAction(options.onDelete, 'onDelete')}`
  if (options.onUpdate !== undefined) sql += ` ON UPDATE ${referentialAction(options.onUpdate, 'onUpdate')}`
  return sql
}

/** The name given to the foreign key of a column's `references`. */
export const columnForeignKeyName = (table: string, column: string): string => `${table}_${column}_fkey`
