import type { Connection } from '../dialect.js'
import type {
  ColumnSnapshot,
  ConstraintSnapshot,
  IndexSnapshot,
  SchemaSnapshot,
  TableSnapshot,
  TriggerSnapshot,
  ViewSnapshot,
} from '../../schema/snapshot.js'
import {
  parseCreateIndex,
  parseCreateTable,
  type ParsedIndex,
  type ParsedReference,
  type ParsedTable,
} from './sqlite-ddl-parser.js'
import { mentionsAny } from './sqlite-tokens.js'

/**
 * The objects a table rebuild must drop and create again besides the table's indexes: DROP TABLE
 * removes the table's triggers, and `ALTER TABLE … RENAME` refuses to run while a view or
 * trigger names a table that is momentarily missing.
 */
export interface SqliteDependents {
  /** Triggers on the table. */
  readonly triggers: readonly TriggerSnapshot[]
  /** Views that read the table, directly or through other views, in creation order. */
  readonly views: readonly ViewSnapshot[]
  /** Triggers on other tables or on those views whose definition names the table or the views. */
  readonly otherTriggers: readonly TriggerSnapshot[]
}

/** What `inspectTables` gives the compiler: the table, plus what a rebuild must carry along. */
export interface SqliteTableSnapshot extends TableSnapshot {
  readonly dependents?: SqliteDependents
}

interface MasterRow {
  readonly type: string
  readonly name: string
  readonly tbl_name: string
  readonly sql: string | null
}

interface ForeignKeyRow {
  readonly id: number
  readonly table: string
  readonly from: string
  readonly to: string | null
  readonly on_update: string
  readonly on_delete: string
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
const lower = (name: string): string => name.toLowerCase()

/**
 * The whole user schema (SPEC S4): every table, view and trigger except SQLite's own
 * (`sqlite_%`), virtual-table shadow tables, and names starting with `tablePrefix` (strata's
 * tables). Sorted by name, so equal schemas give equal snapshots. Three queries, whatever the
 * number of tables.
 */
export async function introspectSqlite(conn: Connection, tablePrefix: string): Promise<SchemaSnapshot> {
  const master = await readMaster(conn)
  const prefix = lower(tablePrefix)
  const own = (name: string): boolean => prefix !== '' && lower(name).startsWith(prefix)
  const shadow = await shadowTables(conn)
  const rows = master.filter((r) => r.type === 'table' && !own(r.name) && !shadow.has(lower(r.name)))
  const tables = await readTables(conn, rows, master)
  const views = master.filter((r) => r.type === 'view' && !own(r.name)).map((r) => ({ name: r.name, sql: r.sql ?? '' }))
  const triggers = master
    .filter((r) => r.type === 'trigger' && !own(r.name) && !own(r.tbl_name))
    .map((r) => ({ name: r.name, table: r.tbl_name, sql: r.sql ?? '' }))
  return { tables: tables.sort(byName), views: views.sort(byName), triggers: triggers.sort(byName) }
}

/**
 * The named tables as the compiler needs them (absent ones left out), keyed by the name asked
 * for, each with the dependents a rebuild must recreate. Two queries, whatever the names.
 */
export async function inspectSqliteTables(
  conn: Connection,
  names: readonly string[],
): Promise<ReadonlyMap<string, SqliteTableSnapshot>> {
  const result = new Map<string, SqliteTableSnapshot>()
  if (names.length === 0) return result
  const master = await readMaster(conn)
  // The first table of each lower-cased name, in creation order (names match case-insensitively).
  const byLowerName = new Map<string, MasterRow>()
  for (const r of master) if (r.type === 'table' && !byLowerName.has(lower(r.name))) byLowerName.set(lower(r.name), r)
  const rows: MasterRow[] = []
  for (const name of names) {
    const row = byLowerName.get(lower(name))
    if (row && !rows.includes(row)) rows.push(row)
  }
  const tables = await readTables(conn, rows, master)
  for (const name of names) {
    const row = byLowerName.get(lower(name))
    if (row) result.set(name, { ...tables[rows.indexOf(row)]!, dependents: dependentsOf(row.name, master) })
  }
  return result
}

/**
 * `sqlite_master` in creation order, SQLite's own objects left out. Read as one JSON array:
 * building a JavaScript object per row costs more than the query itself.
 */
async function readMaster(conn: Connection): Promise<MasterRow[]> {
  const [row] = await conn.query<{ rows: string }>({
    sql: 'SELECT json_group_array(json_array(type, name, tbl_name, sql) ORDER BY rowid) AS rows FROM sqlite_master',
    params: [],
  })
  const master: MasterRow[] = []
  for (const r of JSON.parse(row?.rows ?? '[]') as Array<[string, string, string, string | null]>) {
    if (!lower(r[1]).startsWith('sqlite_')) master.push({ type: r[0], name: r[1], tbl_name: r[2], sql: r[3] })
  }
  return master
}

async function shadowTables(conn: Connection): Promise<ReadonlySet<string>> {
  const rows = await conn.query<{ name: string }>({
    sql: "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'",
    params: [],
  })
  return new Set(rows.map((r) => lower(r.name)))
}

/** `[table, name, type, notnull, dflt_value, pk]` of each column not hidden, in `cid` order. */
type ColumnFact = readonly [number, string, string, number, string | null, number]
/** `[table, index, unique, partial, seqno, column]` of each column of each CREATE INDEX index (origin `c`). */
type IndexFact = readonly [number, string, number, number, number | null, string | null]
/** `[table, id, parent, from, to, on_update, on_delete]` of each foreign key column. */
type ForeignKeyFact = readonly [number, number, string, string, string | null, string, string]

/**
 * Everything the pragmas say about the tables whose names are in the JSON array bound as the
 * one parameter (`table` in each fact is the position in that array). Each pragma is a
 * table-valued function joined to the list, so the query is the same whatever the number of
 * tables; each kind of fact comes back as one JSON text, far cheaper to read than a row object
 * each. Automatic indexes (of UNIQUE / PRIMARY KEY) are left out: they are constraints. A foreign
 * key's omitted parent column is the parent's primary-key column at the same position
 * (`coalesce` evaluates that subquery only when `to` is NULL).
 */
const FACTS_SQL = `WITH t(i, name) AS (SELECT key, value FROM json_each(?))
SELECT
  (SELECT json_group_array(json_array(t.i, p.name, p.type, p."notnull", p.dflt_value, p.pk) ORDER BY t.i, p.cid)
     FROM t JOIN pragma_table_xinfo(t.name) p
     WHERE p.hidden <> 1) AS columns,
  (SELECT json_group_array(json_array(t.i, il.name, il."unique", il.partial, ii.seqno, ii.name) ORDER BY t.i, il.name, ii.seqno)
     FROM t JOIN pragma_index_list(t.name) il LEFT JOIN pragma_index_info(il.name) ii
     WHERE il.origin = 'c') AS indexes,
  (SELECT json_group_array(json_array(t.i, f.id, f."table", f."from",
       coalesce(f."to", (SELECT k.name FROM pragma_table_info(f."table") k WHERE k.pk = f.seq + 1)),
       f.on_update, f.on_delete) ORDER BY t.i, f.id, f.seq)
     FROM t JOIN pragma_foreign_key_list(t.name) f) AS foreign_keys`

/**
 * The snapshots of `rows` (tables of `master`), in the same order: one query whatever the
 * number of tables, and each CREATE TABLE / CREATE INDEX text parsed at most once.
 */
async function readTables(conn: Connection, rows: readonly MasterRow[], master: readonly MasterRow[]): Promise<TableSnapshot[]> {
  if (rows.length === 0) return []
  const [facts] = await conn.query<{ columns: string; indexes: string; foreign_keys: string }>({
    sql: FACTS_SQL,
    params: [JSON.stringify(rows.map((r) => r.name))],
  })
  const columnFacts = JSON.parse(facts?.columns ?? '[]') as ColumnFact[]
  const indexFacts = JSON.parse(facts?.indexes ?? '[]') as IndexFact[]
  const foreignKeyFacts = JSON.parse(facts?.foreign_keys ?? '[]') as ForeignKeyFact[]
  const parsed = rows.map((r) => (r.sql ? parseTable(r.sql) : undefined))

  const columns = rows.map((): ColumnSnapshot[] => [])
  const autoIncrement = parsed.map(autoIncrementColumns)
  for (const f of columnFacts) {
    const name = f[1]
    const column = { name, type: f[2], nullable: f[3] === 0, default: f[4], primaryKey: f[5] }
    columns[f[0]]!.push(autoIncrement[f[0]]?.has(lower(name)) ? { ...column, autoIncrement: true } : column)
  }

  const indexes = rows.map((): IndexSnapshot[] => [])
  const indexSql = new Map<string, string | null>()
  for (const r of master) if (r.type === 'index' && !indexSql.has(r.name)) indexSql.set(r.name, r.sql)
  for (let at = 0; at < indexFacts.length; ) {
    const [table, name, unique, partial] = indexFacts[at]!
    const sql = indexSql.get(name) ?? null
    let end = at
    while (end < indexFacts.length && indexFacts[end]![0] === table && indexFacts[end]![1] === name) end++
    const group = indexFacts.slice(at, end)
    at = end
    // The text is read only for what the pragmas do not give: a WHERE, an expression's text.
    const needsText = partial === 1 || group.some((f) => f[4] !== null && f[5] === null)
    const index = sql && needsText ? parseIndex(sql) : undefined
    const indexColumns: string[] = []
    for (const f of group) if (f[4] !== null) indexColumns.push(f[5] ?? index?.columns[f[4]] ?? '')
    indexes[table]!.push({ name, columns: indexColumns, unique: unique === 1, where: index?.where ?? null, sql })
  }

  const foreignKeys = rows.map((): ForeignKeyRow[] => [])
  for (const f of foreignKeyFacts) {
    foreignKeys[f[0]]!.push({ id: f[1], table: f[2], from: f[3], to: f[4], on_update: f[5], on_delete: f[6] })
  }

  return rows.map((r, i) => ({
    name: r.name,
    columns: columns[i]!,
    indexes: indexes[i]!.sort(byName),
    constraints: constraintsOf(parsed[i], foreignKeys[i]!),
    sql: r.sql,
  }))
}

/** Lower-cased names of the AUTOINCREMENT columns, or undefined when there are none. */
function autoIncrementColumns(parsed: ParsedTable | undefined): ReadonlySet<string> | undefined {
  const names = (parsed?.columns ?? []).filter((c) => c.constraints.some((k) => k.autoIncrement)).map((c) => lower(c.name))
  return names.length > 0 ? new Set(names) : undefined
}

/**
 * Parses are pure functions of the text, so they are memoised (bounded, oldest out first): the
 * runner inspects the same tables before op after op, then introspects the whole schema.
 */
const PARSE_CACHE_SIZE = 1024
const tableParses = new Map<string, ParsedTable | undefined>()
const indexParses = new Map<string, ParsedIndex | undefined>()

function memo<T>(cache: Map<string, T>, sql: string, parse: (sql: string) => T): T {
  if (cache.has(sql)) return cache.get(sql) as T
  const parsed = parse(sql)
  if (cache.size >= PARSE_CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(sql, parsed)
  return parsed
}

const parseTable = (sql: string): ParsedTable | undefined => memo(tableParses, sql, parseCreateTable)
const parseIndex = (sql: string): ParsedIndex | undefined => memo(indexParses, sql, parseCreateIndex)

/**
 * Constraints from the CREATE TABLE text (named or not, column-level or table-level); foreign
 * keys are checked against `PRAGMA foreign_key_list`, which resolves omitted parent columns and
 * gives the actions SQLite will apply. A foreign key the text parse missed is still reported.
 */
function constraintsOf(parsed: ParsedTable | undefined, foreignKeys: readonly ForeignKeyRow[]): ConstraintSnapshot[] {
  const groups = groupForeignKeys(foreignKeys)
  const out: ConstraintSnapshot[] = []
  const foreignKey = (name: string | null, columns: readonly string[], ref: ParsedReference | undefined): ConstraintSnapshot => {
    const at = groups.findIndex(
      (g) => sameNames(g.from, columns) && (ref === undefined || lower(g.table) === lower(ref.table)),
    )
    const group = at >= 0 ? groups.splice(at, 1)[0] : undefined
    const refColumns = group && group.to.every((c) => c !== null) ? (group.to as string[]) : [...(ref?.columns ?? [])]
    return fkSnapshot(name, columns, group?.table ?? ref?.table ?? '', refColumns, group?.onDelete ?? ref?.onDelete, group?.onUpdate ?? ref?.onUpdate)
  }
  for (const column of parsed?.columns ?? []) {
    for (const clause of column.constraints) {
      const cols = [column.name]
      if (clause.kind === 'primaryKey' || clause.kind === 'unique') out.push({ name: clause.name, kind: clause.kind, columns: cols })
      else if (clause.kind === 'check') out.push({ name: clause.name, kind: 'check', columns: cols, expression: clause.expression ?? '' })
      else if (clause.kind === 'references') out.push(foreignKey(clause.name, cols, clause.reference))
    }
  }
  for (const c of parsed?.constraints ?? []) {
    if (c.kind === 'foreignKey') out.push(foreignKey(c.name, c.columns, c.reference))
    else if (c.kind === 'check') out.push({ name: c.name, kind: 'check', columns: [], expression: c.expression ?? '' })
    else out.push({ name: c.name, kind: c.kind, columns: [...c.columns] }) // a copy: parses are memoised
  }
  for (const g of groups) out.push(fkSnapshot(null, g.from, g.table, g.to.map((c) => c ?? ''), g.onDelete, g.onUpdate))
  return sortConstraints(out)
}

interface ForeignKeyGroup {
  readonly table: string
  readonly from: string[]
  readonly to: Array<string | null>
  readonly onDelete: string | undefined
  readonly onUpdate: string | undefined
}

function groupForeignKeys(rows: readonly ForeignKeyRow[]): ForeignKeyGroup[] {
  if (rows.length === 0) return []
  const groups = new Map<number, ForeignKeyGroup>()
  for (const r of rows) {
    let group = groups.get(r.id)
    if (!group) {
      group = { table: r.table, from: [], to: [], onDelete: action(r.on_delete), onUpdate: action(r.on_update) }
      groups.set(r.id, group)
    }
    group.from.push(r.from)
    group.to.push(r.to)
  }
  // foreign_key_list numbers them last-declared first; declaration order reads better.
  return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([, g]) => g)
}

/** A foreign key action as the snapshot shows it: upper case, undefined for none / NO ACTION. */
function action(value: string): string | undefined {
  return value && value.toUpperCase() !== 'NO ACTION' ? value.toUpperCase() : undefined
}

function fkSnapshot(
  name: string | null,
  columns: readonly string[],
  refTable: string,
  refColumns: readonly string[],
  onDelete: string | undefined,
  onUpdate: string | undefined,
): ConstraintSnapshot {
  // Optional keys set one by one, not spread in: this runs for every foreign key of every table.
  const snapshot: Mutable<ConstraintSnapshot> = { name, kind: 'foreignKey', columns: [...columns], refTable, refColumns: [...refColumns] }
  if (onDelete && onDelete !== 'NO ACTION') snapshot.onDelete = onDelete
  if (onUpdate && onUpdate !== 'NO ACTION') snapshot.onUpdate = onUpdate
  return snapshot
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => lower(name) === lower(b[i]!))
}

/** Sorted by name (unnamed last), kind, columns, expression; each sort key built once. */
function sortConstraints(constraints: ConstraintSnapshot[]): ConstraintSnapshot[] {
  if (constraints.length < 2) return constraints
  const key = (c: ConstraintSnapshot): string => `${c.name ?? '\uffff'}\u0000${c.kind}\u0000${c.columns.join(',')}\u0000${c.expression ?? ''}`
  return constraints
    .map((c) => ({ key: key(c), c }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ c }) => c)
}

/** The table's triggers, and the views and triggers elsewhere that name it (transitively via views). */
function dependentsOf(table: string, master: readonly MasterRow[]): SqliteDependents {
  const names = new Set([lower(table)])
  let grew = true
  while (grew) {
    grew = false
    for (const r of master) {
      if (r.type === 'view' && !names.has(lower(r.name)) && r.sql && mentionsAny(r.sql, names)) {
        names.add(lower(r.name))
        grew = true
      }
    }
  }
  const trigger = (r: MasterRow): TriggerSnapshot => ({ name: r.name, table: r.tbl_name, sql: r.sql ?? '' })
  const isTrigger = (r: MasterRow): boolean => r.type === 'trigger' && r.sql !== null
  return {
    triggers: master.filter((r) => isTrigger(r) && lower(r.tbl_name) === lower(table)).map(trigger),
    views: master.filter((r) => r.type === 'view' && names.has(lower(r.name))).map((r) => ({ name: r.name, sql: r.sql ?? '' })),
    otherTriggers: master
      .filter((r) => isTrigger(r) && lower(r.tbl_name) !== lower(table) && (names.has(lower(r.tbl_name)) || mentionsAny(r.sql!, names)))
      .map(trigger),
  }
}
