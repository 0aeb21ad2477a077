import { StrataError } from '../../../errors/index.js'
import type { BatchOperation, ColumnChange, OpOf } from '../../../ops/operation.js'
import { quoteDoubled as q } from '../../shared/identifiers.js'
import {
  parseColumnDefinition,
  parseCreateTable,
  type ColumnConstraintKind,
  type ParsedColumn,
  type ParsedColumnConstraint,
  type ParsedTable,
  type ParsedTableConstraint,
} from '../sqlite-ddl-parser.js'
import type { SqliteTableSnapshot } from '../sqlite-introspector.js'
import { mentionsAny, replaceIdentifiers } from '../sqlite-tokens.js'
import { canAddNatively, defaultClause, renderColumn, sqliteType } from './column-sql.js'
import { checkConstraintSql, createIndexSql, foreignKeySql, uniqueConstraintSql } from './statements.js'

/** A column of the table being changed. */
export interface ModelColumn {
  /** Its name as the ops see it at this point of the batch. */
  name: string
  /** Its name in the rebuilt CREATE TABLE; renames are applied natively after the rebuild. */
  readonly buildName: string
  /** The live column its values are copied from; null for a column added by this change. */
  readonly liveName: string | null
  /** `alterColumn({ using })`: the expression the copy reads instead (over the live columns). */
  using: string | null
  /** Its definition, named `buildName`; an unchanged column keeps its text exactly. */
  def: ParsedColumn
}

/** An index of the table, as the CREATE INDEX statement to run after the rebuild. */
export interface ModelIndex {
  readonly name: string
  readonly sql: string
  readonly columns: readonly string[]
  readonly where: string | null
}

/** Clause order of `renderColumn`, kept when a clause is added to an existing column. */
const CLAUSE_RANK: Readonly<Record<ColumnConstraintKind, number>> = {
  primaryKey: 0, notNull: 1, null: 1, unique: 2, default: 3, check: 4, collate: 5, references: 6, generated: 7, other: 8,
}

const lower = (name: string): string => name.toLowerCase()

/**
 * The definition of one table as a batch of changes proceeds, in the namespace of the rebuilt
 * table (see `ModelColumn.buildName`), plus whether any change needs the rebuild. Built from
 * the live table; changed by `apply`, op by op, in order.
 */
export class TableModel {
  readonly live: SqliteTableSnapshot
  readonly parsed: ParsedTable
  readonly columns: ModelColumn[]
  readonly constraints: ParsedTableConstraint[]
  readonly indexes: ModelIndex[]
  /** True once an op needs what ALTER TABLE cannot do. */
  needsRebuild = false
  /** True once a column is dropped: views and triggers naming it must then be re-validated. */
  droppedColumn = false

  constructor(live: SqliteTableSnapshot) {
    const parsed = live.sql ? parseCreateTable(live.sql) : undefined
    if (!parsed || parsed.columns.length === 0) {
      throw new StrataError('E_MIGRATION_FAILED', `cannot rebuild table \`${live.name}\`: its CREATE TABLE statement could not be read`, {
        hint: 'virtual tables cannot be rebuilt; change this table with op.execute() and hand-written SQL',
        table: live.name,
      })
    }
    this.live = live
    this.parsed = parsed
    this.columns = parsed.columns.map((def) => ({ name: def.name, buildName: def.name, liveName: def.name, using: null, def }))
    this.constraints = [...parsed.constraints]
    this.indexes = live.indexes
      .filter((i) => i.sql)
      .map((i) => ({ name: i.name, sql: i.sql!, columns: i.columns, where: i.where }))
  }

  get table(): string {
    return this.live.name
  }

  /** Applies one op of the change to the model. */
  apply(op: BatchOperation): void {
    switch (op.kind) {
      case 'addColumn': return this.#addColumn(op)
      case 'dropColumn': return this.#dropColumn(op.column)
      case 'renameColumn': return this.#renameColumn(op.from, op.to)
      case 'alterColumn': return this.#alterColumn(op.column, op.change)
      case 'createIndex': return this.#createIndex(op)
      case 'dropIndex': return this.#dropIndex(op.name)
      case 'addUniqueConstraint':
        return this.#addConstraint(op.name, uniqueConstraintSql(op.name, this.#buildNames(op.columns)), 'unique', this.#buildNames(op.columns))
      case 'addCheckConstraint':
        return this.#addConstraint(op.name, checkConstraintSql(op.name, this.toBuild(op.expression)), 'check', [])
      case 'addForeignKey': {
        const self = lower(op.refTable) === lower(this.table)
        const refColumns = self ? this.#buildNames(op.refColumns) : op.refColumns
        const sql = foreignKeySql(op.name, this.#buildNames(op.columns), op.refTable, refColumns, op)
        return this.#addConstraint(op.name, sql, 'foreignKey', this.#buildNames(op.columns))
      }
      case 'dropConstraint': return this.#dropConstraint(op.name)
    }
  }

  /** The column named `name` now (case-insensitive, as in SQLite). */
  find(name: string): ModelColumn | undefined {
    return this.columns.find((c) => lower(c.name) === lower(name))
  }

  /** Rewrites an expression from the batch's current column names to the rebuilt table's. */
  toBuild(expression: string): string {
    const renames = new Map<string, string>()
    for (const c of this.columns) if (lower(c.name) !== lower(c.buildName)) renames.set(lower(c.name), q(c.buildName))
    return replaceIdentifiers(expression, renames)
  }

  #require(name: string): ModelColumn {
    const column = this.find(name)
    if (!column) {
      throw new StrataError('E_MIGRATION_FAILED', `column \`${name}\` does not exist in table \`${this.table}\``, {
        hint: 'check the column name (and any rename earlier in the migration)',
        table: this.table,
        column: name,
      })
    }
    return column
  }

  #buildNames(names: readonly string[]): string[] {
    return names.map((n) => this.#require(n).buildName)
  }

  #addColumn(op: OpOf<'addColumn'>): void {
    if (this.find(op.column.name)) throw this.#exists('column', op.column.name)
    let buildName = op.column.name
    for (let n = 1; this.columns.some((c) => lower(c.buildName) === lower(buildName)); n++) buildName = `${op.column.name}_strata_${n}`
    const def = parseColumnDefinition(renderColumn({ ...op.column, name: buildName }))
    this.columns.push({ name: op.column.name, buildName, liveName: null, using: null, def })
    if (!canAddNatively(op.column)) this.needsRebuild = true
  }

  /**
   * Drops a column. As on PostgreSQL, the indexes and table constraints that use it go with it;
   * ALTER TABLE DROP COLUMN does it in place only when nothing else names the column.
   */
  #dropColumn(name: string): void {
    const column = this.#require(name)
    const names = new Set([lower(column.buildName)])
    const usedBy = (sql: string | null | undefined): boolean => sql != null && mentionsAny(sql, names)
    const constraintUses = (c: ParsedTableConstraint): boolean =>
      c.columns.some((n) => names.has(lower(n)) || usedBy(n)) || usedBy(c.expression) ||
      (c.reference !== undefined && lower(c.reference.table) === lower(this.table) && c.reference.columns.some((n) => names.has(lower(n))))
    const indexUses = (i: ModelIndex): boolean => i.columns.some((n) => names.has(lower(n)) || usedBy(n)) || usedBy(i.where)
    const dependents = this.live.dependents
    const blocked =
      column.def.constraints.some((k) => ['primaryKey', 'unique', 'references', 'generated'].includes(k.kind)) ||
      this.constraints.some(constraintUses) ||
      this.indexes.some(indexUses) ||
      this.columns.some((c) => c !== column && c.def.constraints.some((k) => (k.kind === 'check' || k.kind === 'generated') && usedBy(k.expression))) ||
      [...(dependents?.views ?? []), ...(dependents?.triggers ?? []), ...(dependents?.otherTriggers ?? [])].some((d) => usedBy(d.sql))
    if (blocked) this.needsRebuild = true
    this.columns.splice(this.columns.indexOf(column), 1)
    removeWhere(this.constraints, constraintUses)
    removeWhere(this.indexes, indexUses)
    this.droppedColumn = true
  }

  #renameColumn(from: string, to: string): void {
    const column = this.#require(from)
    const other = this.find(to)
    if (other && other !== column) throw this.#exists('column', to)
    column.name = to
  }

  #alterColumn(name: string, change: ColumnChange): void {
    const column = this.#require(name)
    let clauses = [...column.def.constraints]
    const type = change.type !== undefined ? sqliteType(change.type) : column.def.type
    if (change.nullable !== undefined) {
      clauses = clauses.filter((k) => k.kind !== 'notNull' && k.kind !== 'null')
      if (!change.nullable) insertClause(clauses, 'notNull', 'NOT NULL')
    }
    if (change.default !== undefined) {
      clauses = clauses.filter((k) => k.kind !== 'default')
      if (change.default !== null) insertClause(clauses, 'default', defaultClause(change.default))
    }
    column.def = redefine(column.def, type, clauses)
    if (change.using !== undefined && column.liveName !== null) column.using = this.toBuild(change.using)
    this.needsRebuild = true
  }

  #createIndex(op: OpOf<'createIndex'>): void {
    if (this.indexes.some((i) => lower(i.name) === lower(op.name))) {
      if (op.ifNotExists) return
      throw this.#exists('index', op.name)
    }
    const columns = this.#buildNames(op.columns)
    const where = op.where !== undefined ? this.toBuild(op.where) : undefined
    const sql = createIndexSql(this.table, { name: op.name, columns, ...(op.unique ? { unique: true } : {}), ...(where !== undefined ? { where } : {}) })
    this.indexes.push({ name: op.name, sql, columns, where: where ?? null })
  }

  #dropIndex(name: string): void {
    const at = this.indexes.findIndex((i) => lower(i.name) === lower(name))
    if (at < 0) throw this.#missing('index', name)
    this.indexes.splice(at, 1)
  }

  #addConstraint(name: string, text: string, kind: ParsedTableConstraint['kind'], columns: readonly string[]): void {
    if (this.#findConstraint(name)) throw this.#exists('constraint', name)
    this.constraints.push({ kind, name, text, columns })
    this.needsRebuild = true
  }

  #findConstraint(name: string): boolean {
    const named = (c: { readonly name: string | null }): boolean => c.name !== null && lower(c.name) === lower(name)
    return this.constraints.some(named) || this.columns.some((c) => c.def.constraints.some(named))
  }

  #dropConstraint(name: string): void {
    const named = (c: { readonly name: string | null }): boolean => c.name !== null && lower(c.name) === lower(name)
    const at = this.constraints.findIndex(named)
    if (at >= 0) {
      this.constraints.splice(at, 1)
    } else {
      const column = this.columns.find((c) => c.def.constraints.some(named))
      if (!column) throw this.#missing('constraint', name)
      column.def = redefine(column.def, column.def.type, column.def.constraints.filter((k) => !named(k)))
    }
    this.needsRebuild = true
  }

  #exists(what: string, name: string): StrataError {
    return new StrataError('E_MIGRATION_FAILED', `${what} \`${name}\` already exists on table \`${this.table}\``, {
      hint: `choose another ${what} name`,
      table: this.table,
    })
  }

  #missing(what: string, name: string): StrataError {
    return new StrataError('E_MIGRATION_FAILED', `${what} \`${name}\` does not exist on table \`${this.table}\``, {
      hint: `check the ${what} name; \`strata validate\` lists the live schema`,
      table: this.table,
    })
  }
}

/** Adds a clause before the first one that `renderColumn` would write after it. */
function insertClause(clauses: ParsedColumnConstraint[], kind: ColumnConstraintKind, text: string): void {
  const at = clauses.findIndex((k) => CLAUSE_RANK[k.kind] > CLAUSE_RANK[kind])
  clauses.splice(at < 0 ? clauses.length : at, 0, { kind, name: null, text })
}

/** A column definition re-written from its parts (name as written, type, clauses). */
function redefine(def: ParsedColumn, type: string, clauses: readonly ParsedColumnConstraint[]): ParsedColumn {
  return parseColumnDefinition([def.nameText, type, ...clauses.map((k) => k.text)].filter((p) => p !== '').join(' '))
}

function removeWhere<T>(items: T[], test: (item: T) => boolean): void {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) items.splice(i, 1)
}
