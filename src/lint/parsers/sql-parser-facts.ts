import { action } from '../op-facts.js'
import type { ColumnFact, Fact, ForeignKeyFact, IndexFact } from '../types.js'
import { get, list, obj, text, type Json } from './ast.js'

/**
 * The facts of one statement as node-sql-parser reads it (its SQLite, MySQL and MariaDB
 * grammars share one tree shape): `ast` is one element of what `Parser.astify` returns.
 */
export function sqlParserFacts(ast: Json): Fact[] {
  const type = text(get(ast, 'type'))?.toLowerCase()
  switch (type) {
    case 'create':
      return create(ast)
    case 'drop':
      return drop(ast)
    case 'alter':
      return alter(ast)
    case 'rename':
      return list(get(ast, 'table')).map((pair) => ({ kind: 'renameTable', from: tableName(list(pair)[0]), to: tableName(list(pair)[1]) }))
    case 'insert':
    case 'replace':
      return [{ kind: 'data', verb: 'insert', table: tableName(list(get(ast, 'table'))[0]) || null }]
    case 'update':
      return [{ kind: 'data', verb: 'update', table: tableName(list(get(ast, 'table'))[0]) || null }]
    case 'delete':
      return [{ kind: 'data', verb: 'delete', table: tableName(list(get(ast, 'from'))[0] ?? list(get(ast, 'table'))[0]) || null }]
    case 'truncate':
      return list(get(ast, 'name')).map((t) => ({ kind: 'data', verb: 'delete', table: tableName(t) || null }))
    case 'select':
    case 'set':
    case 'show':
    case 'use':
    case 'desc':
    case 'explain':
    case 'transaction':
    case 'lock':
    case 'unlock':
    case 'call':
    case 'exec':
      return [{ kind: 'other', what: type.toUpperCase() }]
    default:
      return [{ kind: 'ddl', what: (type ?? 'statement').toUpperCase() }]
  }
}

function create(ast: Json): Fact[] {
  const keyword = text(get(ast, 'keyword'))?.toLowerCase()
  if (keyword === 'index') {
    return [{
      kind: 'createIndex',
      table: tableName(get(ast, 'table')),
      name: indexName(get(ast, 'index')),
      columns: list(get(ast, 'index_columns')).map(indexColumn),
      unique: text(get(ast, 'index_type'))?.toLowerCase() === 'unique',
      concurrently: false,
    }]
  }
  if (keyword !== 'table') return [{ kind: 'ddl', what: `CREATE ${(keyword ?? '').toUpperCase()}` }]
  const table = tableName(list(get(ast, 'table'))[0])
  const columns: ColumnFact[] = []
  const primaryKey: string[] = []
  const indexes: IndexFact[] = []
  const foreignKeys: ForeignKeyFact[] = []
  for (const definition of list(get(ast, 'create_definitions'))) {
    const resource = text(get(definition, 'resource'))
    if (resource === 'column') {
      columns.push(columnFact(definition))
    } else if (resource === 'index') {
      indexes.push({ name: indexName(get(definition, 'index')), columns: list(get(definition, 'definition')).map(indexColumn), unique: false })
    } else if (resource === 'constraint') {
      const constraint = constraintFact(table, definition)
      if (constraint.kind === 'addForeignKey') foreignKeys.push(constraint.foreignKey)
      else if (constraint.kind === 'addKey' && constraint.primaryKey) primaryKey.push(...constraint.index.columns)
      else if (constraint.kind === 'addKey') indexes.push(constraint.index)
    }
  }
  return [{ kind: 'createTable', table, columns, primaryKey, indexes, foreignKeys }]
}

function drop(ast: Json): Fact[] {
  const keyword = text(get(ast, 'keyword'))?.toLowerCase()
  if (keyword === 'table') return list(get(ast, 'name')).map((t) => ({ kind: 'dropTable', table: tableName(t) }))
  if (keyword === 'index') {
    const table = tableName(get(ast, 'table'))
    return [{ kind: 'dropIndex', name: columnName(get(ast, 'name')), table: table || null }]
  }
  return [{ kind: 'ddl', what: `DROP ${(keyword ?? '').toUpperCase()}` }]
}

function alter(ast: Json): Fact[] {
  const table = tableName(list(get(ast, 'table'))[0])
  return list(get(ast, 'expr')).flatMap((expr): Fact[] => {
    const act = text(get(expr, 'action'))?.toLowerCase()
    const resource = text(get(expr, 'resource'))?.toLowerCase()
    if (act === 'add' && resource === 'column') return [{ kind: 'addColumn', table, column: columnFact(expr) }]
    if (act === 'add' && resource === 'constraint') return [constraintFact(table, get(expr, 'create_definitions'))]
    if (act === 'add' && resource === 'index') {
      return [{ kind: 'createIndex', table, name: indexName(get(expr, 'index')), columns: list(get(expr, 'definition')).map(indexColumn), unique: false, concurrently: false }]
    }
    if (act === 'drop' && resource === 'column') return [{ kind: 'dropColumn', table, column: columnName(get(expr, 'column')) }]
    if (act === 'drop' && resource === 'index') return [{ kind: 'dropIndex', name: indexName(get(expr, 'index')) ?? '', table }]
    if (act === 'drop' && (resource === 'key' || resource === 'constraint')) {
      return [{ kind: 'dropConstraint', table, name: text(get(expr, 'key')) ?? text(get(expr, 'constraint')) ?? '' }]
    }
    if (act === 'rename' && resource === 'table') return [{ kind: 'renameTable', from: table, to: tableName(get(expr, 'table')) }]
    if (act === 'rename' && resource === 'column') {
      return [{ kind: 'renameColumn', table, from: columnName(get(expr, 'old_column')), to: columnName(get(expr, 'column')) }]
    }
    if (act === 'modify' || act === 'change') {
      const column = columnFact(expr)
      const from = act === 'change' ? columnName(get(expr, 'old_column')) : column.name
      const facts: Fact[] = []
      if (from.toLowerCase() !== column.name.toLowerCase()) facts.push({ kind: 'renameColumn', table, from, to: column.name })
      facts.push({ kind: 'alterColumn', table, column: column.name, type: column.type, restated: true, notNull: column.notNull })
      return facts
    }
    return [{ kind: 'ddl', what: `ALTER TABLE ${(act ?? '').toUpperCase()} ${(resource ?? '').toUpperCase()}`.trim() }]
  })
}

/** A table-level constraint (`create_definitions` entry with `resource: 'constraint'`). */
function constraintFact(table: string, definition: Json): Fact {
  const type = text(get(definition, 'constraint_type'))?.toLowerCase() ?? ''
  const name = text(get(definition, 'constraint')) ?? indexName(get(definition, 'index'))
  const columns = list(get(definition, 'definition')).map(indexColumn)
  if (type === 'foreign key') {
    const reference = get(definition, 'reference_definition')
    return { kind: 'addForeignKey', table, foreignKey: { ...referenceFact(reference, columns), name } }
  }
  if (type.startsWith('primary key') || type.startsWith('unique')) {
    return { kind: 'addKey', table, index: { name, columns, unique: true }, primaryKey: type.startsWith('primary key') }
  }
  return { kind: 'addCheck', table }
}

/** A column definition (in CREATE TABLE, or ADD / MODIFY / CHANGE COLUMN). */
function columnFact(definition: Json): ColumnFact {
  const name = columnName(get(definition, 'column'))
  const reference = get(definition, 'reference_definition')
  const primaryKey = get(definition, 'primary_key') != null
  return {
    name,
    type: dataType(get(definition, 'definition')),
    notNull: text(get(definition, 'nullable', 'type'))?.toLowerCase() === 'not null' || primaryKey,
    hasDefault: get(definition, 'default_val') != null || get(definition, 'auto_increment') != null || get(definition, 'generated') != null,
    primaryKey,
    unique: get(definition, 'unique') != null || get(definition, 'unique_or_primary') != null,
    references: obj(reference) ? referenceFact(reference, [name]) : null,
  }
}

function referenceFact(reference: Json, columns: readonly string[]): ForeignKeyFact {
  const onDelete = list(get(reference, 'on_action')).find((a) => text(get(a, 'type'))?.toLowerCase() === 'on delete')
  return {
    name: null,
    columns,
    refTable: tableName(list(get(reference, 'table'))[0]),
    refColumns: list(get(reference, 'definition')).map(indexColumn),
    onDelete: action(text(get(onDelete, 'value', 'value'))),
  }
}

/** `VARCHAR(255)`, `DECIMAL(10,2)`, or null. */
function dataType(definition: Json): string | null {
  const base = text(get(definition, 'dataType'))
  if (!base) return null
  const length = get(definition, 'length')
  const scale = get(definition, 'scale')
  if (length === undefined || length === null) return base
  return `${base}(${String(length)}${scale !== undefined && scale !== null ? `,${String(scale)}` : ''})`
}

function tableName(node: Json): string {
  return text(node) ?? text(get(node, 'table')) ?? ''
}

/** A column reference in any of the grammar's forms (`'a'`, `{ column: 'a' }`, `{ column: { expr: { value: 'a' } } }`). */
function columnName(node: Json): string {
  if (typeof node === 'string') return node
  const column = get(node, 'column')
  if (typeof column === 'string') return column
  return text(get(column, 'expr', 'value')) ?? text(get(node, 'expr', 'value')) ?? text(get(node, 'value')) ?? ''
}

/** An index element: a column name, or `(expr)` for an expression. */
function indexColumn(node: Json): string {
  return text(get(node, 'type')) === 'column_ref' || typeof node === 'string' ? columnName(node) : '(expr)'
}

function indexName(node: Json): string | null {
  return text(node) ?? text(get(node, 'name')) ?? null
}
