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
import { parseCreateIndex, parseCreateTable, type ParsedReference, type ParsedTable } from './sqlite-ddl-parser.js'
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

interface XInfoRow {
  readonly name: string
  readonly type: string
  readonly notnull: number
  readonly dflt_value: string | null
  readonly pk: number
  readonly hidden: number
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
  const tables: TableSnapshot[] = []
  for (const row of master) {
    if (row.type === 'table' && !own(row.name) && !shadow.has(lower(row.name))) tables.push(await readTable(conn, row, master))
  }
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
  for (const name of names) {
    const row = master.find((r) => r.type === 'table' && lower(r.name) === lower(name))
    if (row) result.set(name, { ...(await readTable(conn, row, master)), dependents: dependentsOf(row.name, master) })
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

async function readTable(conn: Connection, row: MasterRow, master: readonly MasterRow[]): Promise<TableSnapshot> {
  const parsed = row.sql ? parseCreateTable(row.sql) : undefined
  const xinfo = await conn.query<XInfoRow>({
    sql: 'SELECT name, type, "notnull" AS "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid',
    params: [row.name],
  })
  const autoIncrement = new Set(
    (parsed?.columns ?? []).filter((c) => c.constraints.some((k) => k.autoIncrement)).map((c) => lower(c.name)),
  )
  const columns: ColumnSnapshot[] = xinfo
    .filter((c) => c.hidden !== 1)
    .map((c) => ({
      name: c.name,
      type: c.type,
      nullable: c.notnull === 0,
      default: c.dflt_value,
      primaryKey: c.pk,
      ...(autoIncrement.has(lower(c.name)) ? { autoIncrement: true } : {}),
    }))
  const foreignKeys = await readForeignKeys(conn, row.name)
  return {
    name: row.name,
    columns,
    indexes: await readIndexes(conn, row.name, master),
    constraints: constraintsOf(parsed, foreignKeys),
    sql: row.sql,
  }
}

/** `PRAGMA foreign_key_list`, with omitted parent columns resolved to the parent's primary key. */
async function readForeignKeys(conn: Connection, table: string): Promise<ForeignKeyRow[]> {
  const rows = await conn.query<ForeignKeyRow & { seq: number }>({
    sql: 'SELECT id, seq, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq',
    params: [table],
  })
  const parentKeys = new Map<string, string[]>()
  for (const r of rows.filter((r) => r.to === null)) {
    if (!parentKeys.has(r.table)) {
      const key = await conn.query<{ name: string }>({
        sql: 'SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk',
        params: [r.table],
      })
      parentKeys.set(r.table, key.map((k) => k.name))
    }
  }
  return rows.map((r) => (r.to === null ? { ...r, to: parentKeys.get(r.table)?.[r.seq] ?? null } : r))
}

/** Indexes made by CREATE INDEX; the automatic ones of UNIQUE / PRIMARY KEY are constraints. */
async function readIndexes(conn: Connection, table: string, master: readonly MasterRow[]): Promise<IndexSnapshot[]> {
  const list = await conn.query<{ name: string; unique: number; origin: string }>({
    sql: 'SELECT name, "unique" AS "unique", origin FROM pragma_index_list(?)',
    params: [table],
  })
  const indexes: IndexSnapshot[] = []
  for (const index of list.filter((i) => i.origin === 'c')) {
    const sql = master.find((r) => r.type === 'index' && r.name === index.name)?.sql ?? null
    const parsed = sql ? parseCreateIndex(sql) : undefined
    const info = await conn.query<{ seqno: number; name: string | null }>({
      sql: 'SELECT seqno, name FROM pragma_index_info(?) ORDER BY seqno',
      params: [index.name],
    })
    const columns = info.map((c) => c.name ?? parsed?.columns[c.seqno] ?? '')
    indexes.push({ name: index.name, columns, unique: index.unique === 1, where: parsed?.where ?? null, sql })
  }
  return indexes.sort(byName)
}

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
