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

interface ColumnRow {
  readonly tbl: string
  readonly name: string
  readonly type: string
  readonly notnull: number
  readonly dflt_value: string | null
  readonly pk: number
  readonly hidden: number
}

interface IndexColumnRow {
  readonly tbl: string
  readonly idx: string
  readonly unique: number
  readonly seqno: number | null
  readonly col: string | null
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
 * tables). Sorted by name, so equal schemas give equal snapshots.
 */
export async function introspectSqlite(conn: Connection, tablePrefix: string): Promise<SchemaSnapshot> {
  const master = await readMaster(conn)
  const prefix = lower(tablePrefix)
  const own = (name: string): boolean => prefix !== '' && lower(name).startsWith(prefix)
  const shadow = await shadowTables(conn)
  const rows = master.filter((r) => r.type === 'table' && !own(r.name) && !shadow.has(lower(r.name)))
  const tables = [...(await readTables(conn, rows, master)).values()]
  const views = master.filter((r) => r.type === 'view' && !own(r.name)).map((r) => ({ name: r.name, sql: r.sql ?? '' }))
  const triggers = master
    .filter((r) => r.type === 'trigger' && !own(r.name) && !own(r.tbl_name))
    .map((r) => ({ name: r.name, table: r.tbl_name, sql: r.sql ?? '' }))
  return { tables: tables.sort(byName), views: views.sort(byName), triggers: triggers.sort(byName) }
}

/**
 * The named tables as the compiler needs them (absent ones left out), keyed by the name asked
 * for, each with the dependents a rebuild must recreate.
 */
export async function inspectSqliteTables(
  conn: Connection,
  names: readonly string[],
): Promise<ReadonlyMap<string, SqliteTableSnapshot>> {
  const result = new Map<string, SqliteTableSnapshot>()
  if (names.length === 0) return result
  const master = await readMaster(conn)
  const tableRows = new Map<string, MasterRow>()
  for (const r of master) if (r.type === 'table' && !tableRows.has(lower(r.name))) tableRows.set(lower(r.name), r)
  const found = names.map((name) => [name, tableRows.get(lower(name))] as const)
  const rows = [...new Set(found.map(([, row]) => row).filter((row) => row !== undefined))]
  if (rows.length === 0) return result
  const tables = await readTables(conn, rows, master)
  for (const [name, row] of found) {
    if (row) result.set(name, { ...tables.get(row.name)!, dependents: dependentsOf(row.name, master) })
  }
  return result
}

async function readMaster(conn: Connection): Promise<MasterRow[]> {
  const rows = await conn.query<MasterRow>({ sql: 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid', params: [] })
  return rows.filter((r) => !lower(r.name).startsWith('sqlite_'))
}

async function shadowTables(conn: Connection): Promise<ReadonlySet<string>> {
  const rows = await conn.query<{ name: string }>({
    sql: "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'",
    params: [],
  })
  return new Set(rows.map((r) => lower(r.name)))
}

/*
 * Each query joins a pragma table-valued function to the tables of `sqlite_master` whose exact
 * names are in the JSON array bound as the one parameter, so one query reads one kind of fact
 * for every table asked for, and the SQL text is the same whatever the tables.
 */

const COLUMNS_SQL = `SELECT m.name AS tbl, p.name, p.type, p."notnull" AS "notnull", p.dflt_value, p.pk, p.hidden
  FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
  WHERE m.type = 'table' AND m.name IN (SELECT value FROM json_each(?))
  ORDER BY m.name, p.cid`

/** The indexes made by CREATE INDEX (origin `c`) with their columns; automatic ones are constraints. */
const INDEXES_SQL = `SELECT m.name AS tbl, il.name AS idx, il."unique" AS "unique", ii.seqno, ii.name AS col
  FROM sqlite_master m JOIN pragma_index_list(m.name) il LEFT JOIN pragma_index_info(il.name) ii
  WHERE m.type = 'table' AND m.name IN (SELECT value FROM json_each(?)) AND il.origin = 'c'
  ORDER BY m.name, il.name, ii.seqno`

/**
 * `PRAGMA foreign_key_list`, with an omitted parent column resolved to the parent's primary-key
 * column at the same position (`coalesce` only evaluates the subquery when `to` is NULL).
 */
const FOREIGN_KEYS_SQL = `SELECT m.name AS tbl, f.id, f."table" AS "table", f."from" AS "from",
    coalesce(f."to", (SELECT k.name FROM pragma_table_info(f."table") k WHERE k.pk = f.seq + 1)) AS "to",
    f.on_update, f.on_delete
  FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
  WHERE m.type = 'table' AND m.name IN (SELECT value FROM json_each(?))
  ORDER BY m.name, f.id, f.seq`

/**
 * The snapshots of `rows` (tables of `master`), keyed by exact name: a fixed number of queries
 * whatever the number of tables, and each CREATE TABLE text parsed once.
 */
async function readTables(
  conn: Connection,
  rows: readonly MasterRow[],
  master: readonly MasterRow[],
): Promise<Map<string, TableSnapshot>> {
  const out = new Map<string, TableSnapshot>()
  if (rows.length === 0) return out
  const params = [JSON.stringify(rows.map((r) => r.name))]
  const columnRows = groupBy(await conn.query<ColumnRow>({ sql: COLUMNS_SQL, params }))
  const indexRows = groupBy(await conn.query<IndexColumnRow>({ sql: INDEXES_SQL, params }))
  const foreignKeyRows = groupBy(await conn.query<ForeignKeyRow & { tbl: string }>({ sql: FOREIGN_KEYS_SQL, params }))
  const indexSql = new Map<string, string | null>()
  for (const r of master) if (r.type === 'index' && !indexSql.has(r.name)) indexSql.set(r.name, r.sql)
  for (const row of rows) {
    const parsed = row.sql ? parseTable(row.sql) : undefined
    const autoIncrement = new Set(
      (parsed?.columns ?? []).filter((c) => c.constraints.some((k) => k.autoIncrement)).map((c) => lower(c.name)),
    )
    const columns: ColumnSnapshot[] = (columnRows.get(row.name) ?? [])
      .filter((c) => c.hidden !== 1)
      .map((c) => ({
        name: c.name,
        type: c.type,
        nullable: c.notnull === 0,
        default: c.dflt_value,
        primaryKey: c.pk,
        ...(autoIncrement.has(lower(c.name)) ? { autoIncrement: true } : {}),
      }))
    out.set(row.name, {
      name: row.name,
      columns,
      indexes: indexesOf(indexRows.get(row.name) ?? [], indexSql),
      constraints: constraintsOf(parsed, foreignKeyRows.get(row.name) ?? []),
      sql: row.sql,
    })
  }
  return out
}

/** Rows grouped by their `tbl`, in query order. */
function groupBy<Row extends { readonly tbl: string }>(rows: readonly Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>()
  for (const r of rows) {
    const group = groups.get(r.tbl)
    if (group) group.push(r)
    else groups.set(r.tbl, [r])
  }
  return groups
}

/** One table's CREATE INDEX indexes from its rows of INDEXES_SQL (one row per index column). */
function indexesOf(rows: readonly IndexColumnRow[], indexSql: ReadonlyMap<string, string | null>): IndexSnapshot[] {
  const byIndex = new Map<string, IndexColumnRow[]>()
  for (const r of rows) {
    const group = byIndex.get(r.idx)
    if (group) group.push(r)
    else byIndex.set(r.idx, [r])
  }
  const indexes: IndexSnapshot[] = []
  for (const [name, info] of byIndex) {
    const sql = indexSql.get(name) ?? null
    const parsed = sql ? parseIndex(sql) : undefined
    const columns = info.filter((c) => c.seqno !== null).map((c) => c.col ?? parsed?.columns[c.seqno!] ?? '')
    indexes.push({ name, columns, unique: info[0]!.unique === 1, where: parsed?.where ?? null, sql })
  }
  return indexes.sort(byName)
}

/**
 * Parses are pure functions of the text, so they are memoised (bounded): a table whose
 * definition has not changed is not parsed again by the next introspection.
 */
const PARSE_CACHE_SIZE = 2048
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
    else out.push({ name: c.name, kind: c.kind, columns: c.columns })
  }
  for (const g of groups) out.push(fkSnapshot(null, g.from, g.table, g.to.map((c) => c ?? ''), g.onDelete, g.onUpdate))
  return out.sort(compareConstraints)
}

interface ForeignKeyGroup {
  readonly table: string
  readonly from: string[]
  readonly to: Array<string | null>
  readonly onDelete?: string
  readonly onUpdate?: string
}

function groupForeignKeys(rows: readonly ForeignKeyRow[]): ForeignKeyGroup[] {
  const groups = new Map<number, ForeignKeyGroup>()
  for (const r of rows) {
    let group = groups.get(r.id)
    if (!group) {
      group = { table: r.table, from: [], to: [], ...action('onDelete', r.on_delete), ...action('onUpdate', r.on_update) }
      groups.set(r.id, group)
    }
    group.from.push(r.from)
    group.to.push(r.to)
  }
  // foreign_key_list numbers them last-declared first; declaration order reads better.
  return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([, g]) => g)
}

function action(key: 'onDelete' | 'onUpdate', value: string): Partial<Record<'onDelete' | 'onUpdate', string>> {
  return value && value.toUpperCase() !== 'NO ACTION' ? { [key]: value.toUpperCase() } : {}
}

function fkSnapshot(
  name: string | null,
  columns: readonly string[],
  refTable: string,
  refColumns: readonly string[],
  onDelete: string | undefined,
  onUpdate: string | undefined,
): ConstraintSnapshot {
  return {
    name,
    kind: 'foreignKey',
    columns: [...columns],
    refTable,
    refColumns: [...refColumns],
    ...(onDelete && onDelete !== 'NO ACTION' ? { onDelete } : {}),
    ...(onUpdate && onUpdate !== 'NO ACTION' ? { onUpdate } : {}),
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => lower(name) === lower(b[i]!))
}

function compareConstraints(a: ConstraintSnapshot, b: ConstraintSnapshot): number {
  const key = (c: ConstraintSnapshot): string => `${c.name ?? '\uffff'}\u0000${c.kind}\u0000${c.columns.join(',')}\u0000${c.expression ?? ''}`
  const x = key(a)
  const y = key(b)
  return x < y ? -1 : x > y ? 1 : 0
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
