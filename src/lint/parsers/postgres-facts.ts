import { action } from '../op-facts.js'
import type { ColumnFact, Fact, ForeignKeyFact, IndexFact } from '../types.js'
import { get, list, obj, tagged, text, type Json } from './ast.js'

/** Statements that change neither the schema nor the data. */
const NEITHER = new Set([
  'SelectStmt', 'VariableSetStmt', 'VariableShowStmt', 'TransactionStmt', 'ExplainStmt', 'DoStmt', 'CallStmt',
  'NotifyStmt', 'ListenStmt', 'UnlistenStmt', 'LockStmt', 'VacuumStmt', 'CheckPointStmt', 'DiscardStmt',
  'PrepareStmt', 'ExecuteStmt', 'DeallocateStmt', 'ConstraintsSetStmt', 'LoadStmt',
])

/**
 * The facts of one statement as PostgreSQL's own parser (libpg-query) reads it: `stmt` is the
 * `{ Kind: body }` node of one entry of `parseSync(sql).stmts`. Schema names are dropped
 * (`public.users` → `users`). A `DO` block or a function body is not looked into.
 */
export function postgresFacts(stmt: Json): Fact[] {
  const node = tagged(stmt)
  if (!node) return [{ kind: 'other', what: 'empty statement' }]
  const [kind, body] = node
  switch (kind) {
    case 'CreateStmt':
      return [createTable(body)]
    case 'CreateTableAsStmt':
      return get(body, 'objtype') === 'OBJECT_TABLE' || get(body, 'objtype') === undefined
        ? [{ kind: 'createTable', table: relname(get(body, 'into', 'rel')), columns: [], primaryKey: [], indexes: [], foreignKeys: [] }]
        : [{ kind: 'ddl', what: 'CREATE MATERIALIZED VIEW' }]
    case 'DropStmt':
      return drop(body)
    case 'AlterTableStmt':
      return get(body, 'objtype') === 'OBJECT_TABLE' ? alterTable(body) : [{ kind: 'ddl', what: 'ALTER' }]
    case 'RenameStmt':
      return rename(body)
    case 'IndexStmt':
      return [{
        kind: 'createIndex',
        table: relname(get(body, 'relation')),
        name: text(get(body, 'idxname')) ?? null,
        columns: list(get(body, 'indexParams')).map((p) => text(get(p, 'IndexElem', 'name')) ?? '(expr)'),
        unique: get(body, 'unique') === true,
        concurrently: get(body, 'concurrent') === true,
      }]
    case 'InsertStmt':
      return [{ kind: 'data', verb: 'insert', table: relname(get(body, 'relation')) }]
    case 'UpdateStmt':
      return [{ kind: 'data', verb: 'update', table: relname(get(body, 'relation')) }]
    case 'DeleteStmt':
      return [{ kind: 'data', verb: 'delete', table: relname(get(body, 'relation')) }]
    case 'MergeStmt':
      return [{ kind: 'data', verb: 'update', table: relname(get(body, 'relation')) }]
    case 'TruncateStmt':
      return list(get(body, 'relations')).map((r) => ({ kind: 'data', verb: 'delete', table: relname(get(r, 'RangeVar')) }))
    case 'CopyStmt':
      return get(body, 'is_from') === true
        ? [{ kind: 'data', verb: 'insert', table: relname(get(body, 'relation')) }]
        : [{ kind: 'other', what: 'COPY TO' }]
    default:
      return NEITHER.has(kind) ? [{ kind: 'other', what: kind }] : [{ kind: 'ddl', what: kind }]
  }
}

function createTable(body: Record<string, Json>): Fact {
  const table = relname(get(body, 'relation'))
  const columns: ColumnFact[] = []
  const primaryKey: string[] = []
  const indexes: IndexFact[] = []
  const foreignKeys: ForeignKeyFact[] = []
  for (const element of list(get(body, 'tableElts'))) {
    const column = get(element, 'ColumnDef')
    if (column !== undefined) {
      columns.push(columnFact(column))
      continue
    }
    const constraint = obj(get(element, 'Constraint'))
    if (!constraint) continue
    const keys = names(constraint['keys'])
    switch (constraint['contype']) {
      case 'CONSTR_PRIMARY':
        primaryKey.push(...keys)
        break
      case 'CONSTR_UNIQUE':
        indexes.push({ name: text(constraint['conname']) ?? null, columns: keys, unique: true })
        break
      case 'CONSTR_FOREIGN':
        foreignKeys.push(foreignKey(constraint, names(constraint['fk_attrs'])))
        break
    }
  }
  return { kind: 'createTable', table, columns, primaryKey, indexes, foreignKeys }
}

function columnFact(column: Json): ColumnFact {
  const name = text(get(column, 'colname')) ?? ''
  const constraints = list(get(column, 'constraints')).map((c) => obj(get(c, 'Constraint')) ?? {})
  const has = (type: string): boolean => constraints.some((c) => c['contype'] === type)
  const type = typeName(get(column, 'typeName'))
  const reference = constraints.find((c) => c['contype'] === 'CONSTR_FOREIGN')
  return {
    name,
    type,
    notNull: has('CONSTR_NOTNULL') || has('CONSTR_PRIMARY'),
    hasDefault: has('CONSTR_DEFAULT') || has('CONSTR_IDENTITY') || has('CONSTR_GENERATED') || /serial$/i.test(type ?? ''),
    primaryKey: has('CONSTR_PRIMARY'),
    unique: has('CONSTR_UNIQUE'),
    references: reference ? foreignKey(reference, [name]) : null,
  }
}

/** `varchar(255)`: the type's last name part with its modifiers (`pg_catalog.int4` → `int4`). */
function typeName(node: Json): string | null {
  const parts = list(get(node, 'names')).map((n) => text(get(n, 'String', 'sval')) ?? '')
  const base = parts.at(-1)
  if (!base) return null
  const mods = list(get(node, 'typmods')).map((m) => String(get(m, 'A_Const', 'ival', 'ival') ?? get(m, 'A_Const', 'sval', 'sval') ?? ''))
  const array = list(get(node, 'arrayBounds')).length > 0 ? '[]' : ''
  return `${base}${mods.length > 0 ? `(${mods.join(',')})` : ''}${array}`
}

/** libpg-query's one-letter referential actions (`c` = CASCADE). */
const ACTIONS: Readonly<Record<string, string>> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' }

function foreignKey(constraint: Record<string, Json>, columns: string[]): ForeignKeyFact {
  const code = text(constraint['fk_del_action'])
  return {
    name: text(constraint['conname']) ?? null,
    columns,
    refTable: relname(constraint['pktable']),
    refColumns: names(constraint['pk_attrs']),
    onDelete: action(code ? ACTIONS[code] : undefined),
  }
}

function drop(body: Record<string, Json>): Fact[] {
  const objects = list(body['objects']).map((o) => names(get(o, 'List', 'items')).at(-1) ?? '')
  switch (body['removeType']) {
    case 'OBJECT_TABLE':
      return objects.map((table) => ({ kind: 'dropTable', table }))
    case 'OBJECT_INDEX':
      return objects.map((name) => ({ kind: 'dropIndex', name, table: null }))
    default:
      return [{ kind: 'ddl', what: `DROP ${String(body['removeType'] ?? '').replace(/^OBJECT_/, '')}` }]
  }
}

function alterTable(body: Record<string, Json>): Fact[] {
  const table = relname(get(body, 'relation'))
  return list(get(body, 'cmds')).flatMap((command): Fact[] => {
    const cmd = obj(get(command, 'AlterTableCmd')) ?? {}
    const column = text(cmd['name']) ?? ''
    switch (cmd['subtype']) {
      case 'AT_AddColumn':
        return [{ kind: 'addColumn', table, column: columnFact(get(cmd['def'], 'ColumnDef')) }]
      case 'AT_DropColumn':
        return [{ kind: 'dropColumn', table, column }]
      case 'AT_AlterColumnType':
        return [{ kind: 'alterColumn', table, column, type: typeName(get(cmd['def'], 'ColumnDef', 'typeName')) ?? '(unknown)' }]
      case 'AT_SetNotNull':
        return [{ kind: 'alterColumn', table, column, type: null, notNull: true }]
      case 'AT_DropNotNull':
        return [{ kind: 'alterColumn', table, column, type: null, notNull: false }]
      case 'AT_ColumnDefault':
        return [{ kind: 'alterColumn', table, column, type: null }]
      case 'AT_DropConstraint':
        return [{ kind: 'dropConstraint', table, name: column }]
      case 'AT_AddConstraint':
        return [addConstraint(table, obj(get(cmd['def'], 'Constraint')) ?? {})]
      default:
        return [{ kind: 'ddl', what: `ALTER TABLE ${String(cmd['subtype'] ?? '').replace(/^AT_/, '')}` }]
    }
  })
}

function addConstraint(table: string, constraint: Record<string, Json>): Fact {
  const name = text(constraint['conname']) ?? null
  switch (constraint['contype']) {
    case 'CONSTR_FOREIGN':
      return { kind: 'addForeignKey', table, foreignKey: foreignKey(constraint, names(constraint['fk_attrs'])) }
    case 'CONSTR_PRIMARY':
    case 'CONSTR_UNIQUE':
      return { kind: 'addKey', table, index: { name, columns: names(constraint['keys']), unique: true }, primaryKey: constraint['contype'] === 'CONSTR_PRIMARY' }
    default:
      return { kind: 'addCheck', table }
  }
}

function rename(body: Record<string, Json>): Fact[] {
  const table = relname(body['relation'])
  const to = text(body['newname']) ?? ''
  switch (body['renameType']) {
    case 'OBJECT_TABLE':
      return [{ kind: 'renameTable', from: table, to }]
    case 'OBJECT_COLUMN':
      return body['relationType'] === 'OBJECT_TABLE'
        ? [{ kind: 'renameColumn', table, from: text(body['subname']) ?? '', to }]
        : [{ kind: 'ddl', what: 'RENAME COLUMN' }]
    default:
      return [{ kind: 'ddl', what: `RENAME ${String(body['renameType'] ?? '').replace(/^OBJECT_/, '')}` }]
  }
}

function relname(rangeVar: Json): string {
  return text(get(rangeVar, 'relname')) ?? ''
}

/** The names of a list of `{ String: { sval } }` nodes. */
function names(items: Json): string[] {
  return list(items).map((item) => text(get(item, 'String', 'sval')) ?? '')
}
