import type { Connection } from '../dialect.js'
import type {
  ColumnSnapshot,
  ConstraintKind,
  ConstraintSnapshot,
  IndexSnapshot,
  SchemaSnapshot,
  TableSnapshot,
} from '../../schema/snapshot.js'

/** `[table, attnum, name, type, notnull, default, autoIncrement]`, in column order. */
type ColumnFact = readonly [string, number, string, string, boolean, string | null, boolean]
/**
 * `[table, name, contype, conkey, definition, [refSchema, refTable, refOid] | null, confkey,
 * confdeltype, confupdtype]`; columns as attribute numbers, named from the column facts (the
 * table's own) and the referenced facts (the referenced table's).
 */
type ConstraintFact = readonly [
  string, string, string, number[] | null, string | null, [string, string, number] | null, number[] | null, string, string,
]
/** `[table oid, attnum, name]` of each column of a table some foreign key references. */
type ReferencedFact = readonly [number, number, string]
/** `[table, name, unique, where, columns]`. */
type IndexFact = readonly [string, string, boolean, string | null, string[]]

interface Facts {
  readonly schema: string | null
  readonly tables: string | null
  readonly columns: string | null
  readonly constraints: string | null
  readonly referenced: string | null
  readonly indexes: string | null
  readonly views: string | null
  readonly triggers: string | null
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const byName = <T extends { readonly name: string | null }>(x: T, y: T): number => compare(x.name ?? '', y.name ?? '')

/**
 * The user schema of `schema` (default: `current_schema()`, the first schema of the session's
 * `search_path`), SPEC S4: ordinary and partitioned tables, views and triggers, except tables and
 * views whose name starts with `tablePrefix` (case-insensitive: strata's own tables) and what
 * belongs to them. Indexes that back a PRIMARY KEY / UNIQUE / EXCLUDE constraint are left out:
 * they appear as the constraint. Sorted by name, so equal schemas give equal snapshots. One
 * query, whatever the number of tables; read on any connection, in or out of a transaction.
 * Texts the server prints (defaults, view and trigger definitions) qualify the names of objects
 * in a schema that is not on the session's `search_path`, so snapshots of two schemas compare
 * equal when each is read through its own search_path.
 */
export async function introspectPostgres(conn: Connection, tablePrefix: string, schema?: string): Promise<SchemaSnapshot> {
  const facts = await readFacts(conn, { schema: schema ?? null, prefix: tablePrefix, names: null })
  const views = parse<Array<[string, string]>>(facts.views).map(([name, sql]) => ({ name, sql }))
  const triggers = parse<Array<[string, string, string]>>(facts.triggers).map(([name, table, sql]) => ({ name, table, sql }))
  return { tables: buildTables(facts), views: views.sort(byName), triggers: triggers.sort(byName) }
}

/**
 * The named tables of the current schema as the compiler needs them, keyed by the name asked
 * for; absent ones are left out. Names match exactly (identifiers are quoted, so case counts).
 * One query, whatever the names.
 */
export async function inspectPostgresTables(conn: Connection, names: readonly string[]): Promise<ReadonlyMap<string, TableSnapshot>> {
  const result = new Map<string, TableSnapshot>()
  if (names.length === 0) return result
  const facts = await readFacts(conn, { schema: null, prefix: '', names })
  const tables = new Map(buildTables(facts).map((t) => [t.name, t]))
  for (const name of names) {
    const table = tables.get(name)
    if (table) result.set(name, table)
  }
  return result
}

/**
 * A sha256 (hex) of the catalog rows that define the current schema's tables, columns, indexes,
 * constraints, triggers and views (strata's own, named with `tablePrefix`, left out): equal
 * while the schema is unchanged. One query, much cheaper than `introspectPostgres`; it may
 * change where a snapshot does not (a sequence, an index's operator class), so the caller
 * confirms a difference with `introspectPostgres`.
 */
export async function postgresCatalogFingerprint(conn: Connection, tablePrefix: string): Promise<string> {
  const [row] = await conn.query<{ hash: string }>({ sql: CATALOG_FINGERPRINT_SQL, params: [null, tablePrefix, null] })
  return row?.hash ?? ''
}

async function readFacts(
  conn: Connection,
  filter: { readonly schema: string | null; readonly prefix: string; readonly names: readonly string[] | null },
): Promise<Facts> {
  const [facts] = await conn.query<Facts>({
    sql: SCHEMA_FACTS_SQL,
    params: [filter.schema, filter.prefix, filter.names === null ? null : JSON.stringify(filter.names)],
  })
  return facts ?? { schema: null, tables: null, columns: null, constraints: null, referenced: null, indexes: null, views: null, triggers: null }
}

/** Every fact kind comes back as one JSON text: cheaper to read than an object per row. */
function parse<T>(text: string | null): T {
  return JSON.parse(text ?? '[]') as T
}

function buildTables(facts: Facts): TableSnapshot[] {
  const names = parse<string[]>(facts.tables)
  const columnFacts = parse<ColumnFact[]>(facts.columns)
  const attributes = new Map(names.map((n): [string, Map<number, string>] => [n, new Map()]))
  for (const [table, attnum, name] of columnFacts) attributes.get(table)?.set(attnum, name)
  const referenced = new Map<number, Map<number, string>>()
  for (const [oid, attnum, name] of parse<ReferencedFact[]>(facts.referenced)) {
    let table = referenced.get(oid)
    if (!table) referenced.set(oid, (table = new Map()))
    table.set(attnum, name)
  }

  const constraints = new Map(names.map((n): [string, ConstraintSnapshot[]] => [n, []]))
  const keyPositions = new Map<string, ReadonlyMap<string, number>>()
  for (const f of parse<ConstraintFact[]>(facts.constraints)) {
    const own = attributes.get(f[0])
    const columns = (f[3] ?? []).map((n) => own?.get(n) ?? '')
    const refColumns = (f[6] ?? []).map((n) => (f[5] && referenced.get(f[5][2])?.get(n)) ?? '')
    const constraint = constraintOf(f, columns, refColumns, facts.schema)
    if (!constraint) continue
    constraints.get(f[0])?.push(constraint)
    if (constraint.kind === 'primaryKey') keyPositions.set(f[0], new Map(columns.map((c, i) => [c, i + 1])))
  }

  const columns = new Map(names.map((n): [string, ColumnSnapshot[]] => [n, []]))
  for (const [table, , name, type, notNull, defaultSql, autoIncrement] of columnFacts) {
    const column: ColumnSnapshot = { name, type, nullable: !notNull, default: defaultSql, primaryKey: keyPositions.get(table)?.get(name) ?? 0 }
    columns.get(table)?.push(autoIncrement ? { ...column, autoIncrement: true } : column)
  }
  const indexes = new Map(names.map((n): [string, IndexSnapshot[]] => [n, []]))
  for (const [table, name, unique, where, indexColumns] of parse<IndexFact[]>(facts.indexes)) {
    indexes.get(table)?.push({ name, columns: indexColumns, unique, where })
  }
  return names
    .map((name) => ({ name, columns: columns.get(name)!, indexes: indexes.get(name)!.sort(byName), constraints: constraints.get(name)!.sort(byName) }))
    .sort(byName)
}

const KINDS: Readonly<Record<string, ConstraintKind>> = { p: 'primaryKey', u: 'unique', c: 'check', f: 'foreignKey' }
const ACTIONS: Readonly<Record<string, string>> = { r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' }

/**
 * A constraint as the snapshot shows it. A CHECK keeps the expression inside `CHECK (…)` as
 * `pg_get_constraintdef` prints it (the whole definition when options follow, e.g. NOT VALID);
 * a foreign key to another schema names its table `schema.table`; NO ACTION is left out.
 */
function constraintOf(
  f: ConstraintFact,
  columns: string[],
  refColumns: string[],
  schema: string | null,
): ConstraintSnapshot | undefined {
  const [, name, type, , definition, ref, , onDelete, onUpdate] = f
  const kind = KINDS[type]
  if (!kind) return undefined
  if (kind === 'check') {
    const inner = /^CHECK \((.*)\)$/s.exec(definition ?? '')
    return { name, kind, columns, expression: inner ? inner[1]! : (definition ?? '') }
  }
  if (kind !== 'foreignKey') return { name, kind, columns }
  const refTable = ref === null ? '' : ref[0] === schema ? ref[1] : `${ref[0]}.${ref[1]}`
  const snapshot: { -readonly [K in keyof ConstraintSnapshot]: ConstraintSnapshot[K] } = { name, kind, columns, refTable, refColumns }
  if (ACTIONS[onDelete]) snapshot.onDelete = ACTIONS[onDelete]
  if (ACTIONS[onUpdate]) snapshot.onUpdate = ACTIONS[onUpdate]
  return snapshot
}

/**
 * CTEs `p` (the parameters) and `rels` (the relations of one schema of the given `relkind`s):
 * `?` 1 the schema (null: `current_schema()`), 2 the table prefix to leave out, 3 a JSON array
 * of the only names to read (null: all).
 */
const relationsSql = (kinds: string): string => `p AS (
  SELECT coalesce(?::text, current_schema()) AS schema, lower(?::text) AS prefix, ?::json AS names
), rels AS (
  SELECT c.oid, c.relname::text AS name, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN p
  WHERE n.nspname = p.schema AND c.relkind IN (${kinds})
    AND CASE WHEN p.names IS NULL THEN p.prefix = '' OR NOT starts_with(lower(c.relname), p.prefix)
        ELSE c.relname IN (SELECT json_array_elements_text(p.names)) END
)`

/**
 * Every fact of the snapshot, each kind as one JSON text (see the `*Fact` types). A serial
 * column is one whose sequence depends on it automatically (deptype `a`); an identity column
 * has `attidentity`. A generated column's expression is reported as its default. Trigger
 * definitions lose the qualification of their own table (`ON schema.t`), so snapshots of the
 * same schema under two names compare equal.
 */
const SCHEMA_FACTS_SQL = `WITH ${relationsSql("'r', 'p', 'v'")}
SELECT
  (SELECT schema FROM p) AS schema,
  (SELECT json_agg(r.name) FROM rels r WHERE r.relkind IN ('r', 'p'))::text AS tables,
  (SELECT json_agg(json_build_array(r.name, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
         ELSE pg_get_expr(d.adbin, d.adrelid) END,
       a.attidentity <> '' OR d.oid IS NOT NULL AND EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
         WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
           AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'))
       ORDER BY r.name, a.attnum)
     FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE r.relkind IN ('r', 'p'))::text AS columns,
  (SELECT json_agg(json_build_array(r.name, k.conname, k.contype, to_json(k.conkey),
       CASE WHEN k.contype = 'c' THEN pg_get_constraintdef(k.oid) END,
       CASE WHEN k.contype = 'f' THEN json_build_array(fn.nspname, fc.relname, k.confrelid) END,
       to_json(k.confkey), k.confdeltype, k.confupdtype))
     FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid
     LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
     WHERE k.contype IN ('p', 'u', 'c', 'f'))::text AS constraints,
  (SELECT json_agg(json_build_array(a.attrelid, a.attnum, a.attname))
     FROM pg_attribute a
     WHERE a.attnum > 0 AND a.attrelid IN (SELECT k.confrelid FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid
       WHERE k.contype = 'f'))::text AS referenced,
  (SELECT json_agg(json_build_array(r.name, i.relname, x.indisunique, pg_get_expr(x.indpred, x.indrelid),
       (SELECT json_agg(CASE WHEN u.num = 0 THEN pg_get_indexdef(x.indexrelid, u.ord::int, true) ELSE a.attname::text END
           ORDER BY u.ord)
         FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(num, ord)
         LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.num
         WHERE u.ord <= x.indnkeyatts)))
     FROM rels r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class i ON i.oid = x.indexrelid
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k
       WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x')))::text AS indexes,
  (SELECT json_agg(json_build_array(r.name, pg_get_viewdef(r.oid))) FROM rels r WHERE r.relkind = 'v')::text AS views,
  (SELECT json_agg(json_build_array(t.tgname, r.name,
       replace(pg_get_triggerdef(t.oid), ' ON ' || quote_ident(p.schema) || '.', ' ON ')))
     FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid CROSS JOIN p
     WHERE NOT t.tgisinternal AND (p.names IS NOT NULL OR p.prefix = '' OR NOT starts_with(lower(t.tgname), p.prefix)))::text AS triggers`

/**
 * The sha256 of one line per catalog row that defines the schema, read from the catalogs' own
 * columns rather than deparsed (node trees are text too), joined in a fixed byte order. Hashed
 * by the server: the lines of a large schema run to megabytes.
 */
const CATALOG_FINGERPRINT_SQL = `WITH ${relationsSql("'r', 'p', 'v', 'm', 'f'")}
SELECT encode(sha256(convert_to(coalesce(string_agg(line, E'\\n' ORDER BY line COLLATE "C"), ''), 'UTF8')), 'hex') AS hash FROM (
  SELECT concat_ws(' ', 'rel', r.name, r.relkind) FROM rels r
  UNION ALL
  SELECT concat_ws(' ', 'col', r.name, a.attnum, a.attname, a.atttypid::regtype, a.atttypmod, a.attnotnull,
      a.attidentity, a.attgenerated, a.attcollation, d.adbin)
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  UNION ALL
  SELECT concat_ws(' ', 'idx', r.name, i.relname, i.relam, x.indisunique, x.indkey, x.indclass, x.indoption,
      x.indcollation, x.indnkeyatts, x.indexprs, x.indpred)
    FROM rels r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class i ON i.oid = x.indexrelid
  UNION ALL
  SELECT concat_ws(' ', 'con', r.name, k.conname, k.contype, k.conkey, k.confrelid::regclass, k.confkey, k.confdeltype,
      k.confupdtype, k.confmatchtype, k.condeferrable, k.condeferred, k.convalidated, k.conbin)
    FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid
  UNION ALL
  SELECT concat_ws(' ', 'trg', r.name, t.tgname, t.tgtype, t.tgfoid::regprocedure, t.tgenabled, t.tgattr, t.tgargs,
      t.tgqual, t.tgdeferrable, t.tginitdeferred, t.tgoldtable, t.tgnewtable)
    FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid CROSS JOIN p
    WHERE NOT t.tgisinternal AND (p.prefix = '' OR NOT starts_with(lower(t.tgname), p.prefix))
  UNION ALL
  SELECT concat_ws(' ', 'view', r.name, pg_get_viewdef(r.oid)) FROM rels r WHERE r.relkind IN ('v', 'm')
) facts(line)`
