import { createHash } from 'node:crypto'
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

/**
 * A table as the MySQL compiler needs it: the snapshot, plus the names of the indexes InnoDB
 * created for foreign keys (named as the constraint), which `dropConstraint` drops with it.
 */
export interface MysqlTableSnapshot extends TableSnapshot {
  readonly foreignKeyIndexes?: readonly string[]
}

interface Rows {
  readonly server: { readonly version: string; readonly db: string | null }
  readonly tables: ReadonlyArray<{ name: string; type: string }>
  readonly columns: ReadonlyArray<{ tbl: string; name: string; pos: number; type: string; dataType: string; nullable: string; def: string | null; extra: string }>
  readonly statistics: ReadonlyArray<{ tbl: string; name: string; nonUnique: number | string; seq: number; col: string | null; sub: number | null }>
  readonly constraints: ReadonlyArray<{ tbl: string; name: string; type: string }>
  readonly keyColumns: ReadonlyArray<{ tbl: string; name: string; col: string; pos: number; refTable: string | null; refColumn: string | null; refSchema: string | null }>
  readonly referential: ReadonlyArray<{ tbl: string; name: string; onUpdate: string; onDelete: string }>
  readonly checks: ReadonlyArray<Record<string, unknown>>
  readonly views: ReadonlyArray<{ name: string; sql: string | null }>
  readonly triggers: ReadonlyArray<{ name: string; tbl: string; timing: string; event: string; body: string; ord: number }>
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const byName = <T extends { readonly name: string | null }>(x: T, y: T): number => compare(x.name ?? '', y.name ?? '')

/**
 * The user schema of the current database (`DATABASE()`), SPEC S4: base tables, views and
 * triggers, except tables, views and triggers whose name (or table's name) starts with
 * `tablePrefix`, case-insensitively (strata's own tables). Ten information_schema queries,
 * whatever the number of tables. How MySQL's catalog is mapped:
 * - column `type` is COLUMN_TYPE (`int(11)`, `varchar(20)`); a MariaDB JSON column (stored as
 *   `longtext` with a `json_valid` check) is reported as `json`, its check left out, so a
 *   snapshot reads the same on MySQL and MariaDB and round trips are stable;
 * - `default` is SQL text in MariaDB's spelling (strings quoted with `''` doubling, expressions
 *   as written back, `NULL` meaning none → null); MySQL 8's raw text is brought to that form;
 * - every unique key is a `unique` constraint (MySQL keeps no unique index apart from one), the
 *   primary key is the constraint `PRIMARY`, and `indexes` are the non-unique keys;
 * - the index InnoDB creates for a foreign key (named as the constraint) belongs to the
 *   constraint and is not listed, so adding and dropping a foreign key round-trips;
 * - ON DELETE / ON UPDATE RESTRICT and NO ACTION (the same in InnoDB) are left out;
 * - view definitions lose the qualification with the current database name, so equal schemas
 *   in two databases compare equal; triggers are rebuilt as `CREATE TRIGGER` text.
 */
export async function introspectMysql(conn: Connection, tablePrefix: string): Promise<SchemaSnapshot> {
  const rows = await readRows(conn)
  const prefix = tablePrefix.toLowerCase()
  const keep = (name: string): boolean => prefix === '' || !name.toLowerCase().startsWith(prefix)
  const tables = buildTables(rows, keep).map(({ foreignKeyIndexes: _, ...table }) => table)
  const db = rows.server.db ?? ''
  const views: ViewSnapshot[] = rows.views
    .filter((v) => keep(v.name))
    .map((v) => ({ name: v.name, sql: unqualify(v.sql ?? '', db) }))
    .sort(byName)
  const triggers: TriggerSnapshot[] = rows.triggers
    .filter((t) => keep(t.tbl) && keep(t.name))
    .map((t) => ({ name: t.name, table: t.tbl, sql: `CREATE TRIGGER \`${t.name}\` ${t.timing} ${t.event} ON \`${t.tbl}\` FOR EACH ROW ${t.body}` }))
    .sort(byName)
  return { tables, views, triggers }
}

/** The named tables of the current database, keyed by the name asked for; absent ones left out. */
export async function inspectMysqlTables(conn: Connection, names: readonly string[]): Promise<ReadonlyMap<string, MysqlTableSnapshot>> {
  const result = new Map<string, MysqlTableSnapshot>()
  if (names.length === 0) return result
  const wanted = new Set(names)
  const tables = buildTables(await readRows(conn), (name) => wanted.has(name))
  for (const table of tables) result.set(table.name, table)
  return result
}

/**
 * A sha256 (hex) of the information_schema rows that define the current database's tables,
 * columns, keys, constraints, views and triggers (strata's own, named with `tablePrefix`, left
 * out): equal while the schema is unchanged. One query; it may change where a snapshot does
 * not (an index's prefix length, a column comment), so the caller confirms a difference with
 * `introspectMysql`.
 */
export async function mysqlCatalogFingerprint(conn: Connection, tablePrefix: string): Promise<string> {
  const rows = await conn.query<{ tbl: string | null; line: string | null }>({ sql: FINGERPRINT_SQL, params: [] })
  const prefix = tablePrefix.toLowerCase()
  const lines = rows
    .filter((r) => prefix === '' || !(r.tbl ?? '').toLowerCase().startsWith(prefix))
    .map((r) => r.line ?? '')
    .sort(compare)
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

function unqualify(sql: string, db: string): string {
  return db === '' ? sql : sql.split(`\`${db.split('`').join('``')}\`.`).join('')
}

const JSON_CHECK = /^json_valid\(`((?:[^`]|``)+)`\)$/i

/** MySQL 8 reports defaults raw; MariaDB as SQL text. Both end as SQL text (or null). */
function defaultOf(column: Rows['columns'][number], mariadb: boolean): string | null {
  const value = column.def
  if (value === null) return null
  if (mariadb) return value === 'NULL' ? null : value
  if (/DEFAULT_GENERATED/i.test(column.extra)) return /^current_timestamp/i.test(value) ? value : `(${value})`
  if (/int|decimal|float|double|bit|year/i.test(column.dataType)) return value
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
}

function buildTables(rows: Rows, keep: (name: string) => boolean): MysqlTableSnapshot[] {
  const mariadb = /mariadb/i.test(rows.server.version)
  const names = rows.tables.filter((t) => t.type === 'BASE TABLE' && keep(t.name)).map((t) => t.name)
  const wanted = new Set(names)
  const forTable = <T extends { tbl: string }>(list: ReadonlyArray<T>): Map<string, T[]> => {
    const map = new Map<string, T[]>(names.map((n) => [n, []]))
    for (const row of list) map.get(row.tbl)?.push(row)
    return map
  }

  // Check constraints: MariaDB names their table; MySQL 8 only through TABLE_CONSTRAINTS.
  const checkTable = new Map(rows.constraints.filter((c) => c.type === 'CHECK').map((c) => [c.name, c.tbl]))
  const checks = forTable(rows.checks.map((c) => {
    const name = String(c['CONSTRAINT_NAME'])
    return { tbl: typeof c['TABLE_NAME'] === 'string' ? c['TABLE_NAME'] : (checkTable.get(name) ?? ''), name, clause: String(c['CHECK_CLAUSE'] ?? '') }
  }))
  const jsonColumns = new Map<string, Set<string>>()
  for (const [table, list] of checks) {
    const set = new Set<string>()
    for (const c of list) {
      const match = JSON_CHECK.exec(c.clause)
      if (match) set.add(match[1]!.replaceAll('``', '`'))
    }
    jsonColumns.set(table, set)
  }

  const keys = new Map<string, Map<string, { unique: boolean; columns: string[] }>>()
  for (const s of rows.statistics) {
    if (!wanted.has(s.tbl)) continue
    let table = keys.get(s.tbl)
    if (!table) keys.set(s.tbl, (table = new Map()))
    let key = table.get(s.name)
    if (!key) table.set(s.name, (key = { unique: Number(s.nonUnique) === 0, columns: [] }))
    key.columns[s.seq - 1] = (s.col ?? '') + (s.sub === null ? '' : `(${s.sub})`)
  }

  const fkColumns = new Map<string, { columns: string[]; refColumns: string[]; refTable: string }>()
  for (const k of rows.keyColumns) {
    if (k.refTable === null) continue
    const id = `${k.tbl}\u0000${k.name}`
    let fk = fkColumns.get(id)
    if (!fk) {
      const refTable = k.refSchema === null || k.refSchema === rows.server.db ? k.refTable : `${k.refSchema}.${k.refTable}`
      fkColumns.set(id, (fk = { columns: [], refColumns: [], refTable }))
    }
    fk.columns[k.pos - 1] = k.col
    fk.refColumns[k.pos - 1] = k.refColumn ?? ''
  }

  const columns = forTable(rows.columns)
  const referential = forTable(rows.referential)
  return names.map((name): MysqlTableSnapshot => {
    const tableKeys = keys.get(name) ?? new Map<string, { unique: boolean; columns: string[] }>()
    const primary = tableKeys.get('PRIMARY')?.columns ?? []
    const json = jsonColumns.get(name) ?? new Set<string>()
    const columnSnapshots = (columns.get(name) ?? [])
      .sort((a, b) => a.pos - b.pos)
      .map((c): ColumnSnapshot => {
        const type = json.has(c.name) && /^longtext$/i.test(c.type) ? 'json' : c.type
        const snapshot: ColumnSnapshot = { name: c.name, type, nullable: c.nullable === 'YES', default: defaultOf(c, mariadb), primaryKey: primary.indexOf(c.name) + 1 }
        return /auto_increment/i.test(c.extra) ? { ...snapshot, autoIncrement: true } : snapshot
      })

    const constraints: ConstraintSnapshot[] = []
    if (primary.length > 0) constraints.push({ name: 'PRIMARY', kind: 'primaryKey', columns: primary })
    for (const [keyName, key] of tableKeys) if (key.unique && keyName !== 'PRIMARY') constraints.push({ name: keyName, kind: 'unique', columns: key.columns })
    for (const c of checks.get(name) ?? []) {
      const match = JSON_CHECK.exec(c.clause)
      if (match && json.has(match[1]!.replaceAll('``', '`'))) continue
      constraints.push({ name: c.name, kind: 'check', columns: [], expression: c.clause })
    }
    const foreignKeyIndexes: string[] = []
    for (const r of referential.get(name) ?? []) {
      const fk = fkColumns.get(`${name}\u0000${r.name}`)
      const snapshot: { -readonly [K in keyof ConstraintSnapshot]: ConstraintSnapshot[K] } = {
        name: r.name, kind: 'foreignKey', columns: fk?.columns ?? [], refTable: fk?.refTable ?? '', refColumns: fk?.refColumns ?? [],
      }
      if (!QUIET_ACTIONS.has(r.onDelete)) snapshot.onDelete = r.onDelete
      if (!QUIET_ACTIONS.has(r.onUpdate)) snapshot.onUpdate = r.onUpdate
      constraints.push(snapshot)
      if (tableKeys.get(r.name)?.unique === false) foreignKeyIndexes.push(r.name)
    }

    const indexes: IndexSnapshot[] = []
    for (const [keyName, key] of tableKeys) {
      if (key.unique || foreignKeyIndexes.includes(keyName)) continue
      indexes.push({ name: keyName, columns: key.columns, unique: false, where: null })
    }
    return { name, columns: columnSnapshots, indexes: indexes.sort(byName), constraints: constraints.sort(byName), foreignKeyIndexes }
  }).sort(byName)
}

const QUIET_ACTIONS: ReadonlySet<string> = new Set(['RESTRICT', 'NO ACTION'])

const SCHEMA = 'TABLE_SCHEMA = DATABASE()'

async function readRows(conn: Connection): Promise<Rows> {
  const read = <T>(sql: string): Promise<T[]> => conn.query<T>({ sql, params: [] })
  const [server] = await read<Rows['server']>('SELECT VERSION() AS version, DATABASE() AS db')
  return {
    server: server ?? { version: '', db: null },
    tables: await read(`SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE ${SCHEMA}`),
    columns: await read(`SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, ORDINAL_POSITION AS pos, COLUMN_TYPE AS type,
        DATA_TYPE AS dataType, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def, EXTRA AS extra
      FROM information_schema.COLUMNS WHERE ${SCHEMA}`),
    statistics: await read(`SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, SEQ_IN_INDEX AS seq,
        COLUMN_NAME AS col, SUB_PART AS sub
      FROM information_schema.STATISTICS WHERE ${SCHEMA} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`),
    constraints: await read(`SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CONSTRAINT_TYPE AS type
      FROM information_schema.TABLE_CONSTRAINTS WHERE ${SCHEMA}`),
    keyColumns: await read(`SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, COLUMN_NAME AS col, ORDINAL_POSITION AS pos,
        REFERENCED_TABLE_NAME AS refTable, REFERENCED_COLUMN_NAME AS refColumn, REFERENCED_TABLE_SCHEMA AS refSchema
      FROM information_schema.KEY_COLUMN_USAGE WHERE ${SCHEMA}`),
    referential: await read(`SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, UPDATE_RULE AS onUpdate, DELETE_RULE AS onDelete
      FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()`),
    checks: await read('SELECT * FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()'),
    views: await read(`SELECT TABLE_NAME AS name, VIEW_DEFINITION AS \`sql\` FROM information_schema.VIEWS WHERE ${SCHEMA}`),
    triggers: await read(`SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_TIMING AS timing,
        EVENT_MANIPULATION AS event, ACTION_STATEMENT AS body, ACTION_ORDER AS ord
      FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`),
  }
}

/** One `(tbl, line)` row per catalog row that defines the schema; hashed by the client after filtering. */
const FINGERPRINT_SQL = `
SELECT TABLE_NAME AS tbl, CONCAT_WS(' ', 'rel', TABLE_NAME, TABLE_TYPE) AS line
  FROM information_schema.TABLES WHERE ${SCHEMA}
UNION ALL
SELECT TABLE_NAME, CONCAT_WS(' ', 'col', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE,
    IFNULL(COLUMN_DEFAULT, '~'), EXTRA, IFNULL(COLLATION_NAME, '~'), COLUMN_COMMENT)
  FROM information_schema.COLUMNS WHERE ${SCHEMA}
UNION ALL
SELECT TABLE_NAME, CONCAT_WS(' ', 'idx', TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, IFNULL(COLUMN_NAME, '~'),
    IFNULL(SUB_PART, '~'), INDEX_TYPE)
  FROM information_schema.STATISTICS WHERE ${SCHEMA}
UNION ALL
SELECT TABLE_NAME, CONCAT_WS(' ', 'con', TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE)
  FROM information_schema.TABLE_CONSTRAINTS WHERE ${SCHEMA}
UNION ALL
SELECT tc.TABLE_NAME, CONCAT_WS(' ', 'chk', tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE)
  FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc
    ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'
  WHERE cc.CONSTRAINT_SCHEMA = DATABASE()
UNION ALL
SELECT TABLE_NAME, CONCAT_WS(' ', 'fk', TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION, COLUMN_NAME,
    IFNULL(REFERENCED_TABLE_SCHEMA, '~'), IFNULL(REFERENCED_TABLE_NAME, '~'), IFNULL(REFERENCED_COLUMN_NAME, '~'))
  FROM information_schema.KEY_COLUMN_USAGE WHERE ${SCHEMA}
UNION ALL
SELECT TABLE_NAME, CONCAT_WS(' ', 'ref', TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE)
  FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
UNION ALL
SELECT TABLE_NAME, CONCAT_WS(' ', 'view', TABLE_NAME, VIEW_DEFINITION)
  FROM information_schema.VIEWS WHERE ${SCHEMA}
UNION ALL
SELECT EVENT_OBJECT_TABLE, CONCAT_WS(' ', 'trg', EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION,
    ACTION_ORDER, ACTION_STATEMENT)
  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`
