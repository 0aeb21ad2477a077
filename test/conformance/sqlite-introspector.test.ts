import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteDialect } from '../../src/dialects/sqlite/sqlite-dialect.js'
import type { SqliteTableSnapshot } from '../../src/dialects/sqlite/sqlite-introspector.js'
import { exec, openTemp, snapshot, type TempDb } from './sqlite-harness.js'

// The introspector on real files: what it reads, what it leaves out, and that it is deterministic.

let db: TempDb
beforeEach(async () => {
  db = await openTemp()
})
afterEach(async () => db.cleanup())

const SCHEMA = [
  'CREATE TABLE orgs (id INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL UNIQUE)',
  `CREATE TABLE [we"ird table] (
     -- a comment, with (parens), and 'quotes'
     \`key\` TEXT NOT NULL COLLATE NOCASE DEFAULT 'a,b)c',
     "sp ace" INTEGER CONSTRAINT sp_pos CHECK ("sp ace" > 0) DEFAULT -1, /* another ) comment */
     org INT REFERENCES orgs ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
     twice AS ("sp ace" * 2) VIRTUAL,
     CONSTRAINT pk PRIMARY KEY (\`key\`, "sp ace"),
     CONSTRAINT uq UNIQUE (org) ON CONFLICT IGNORE,
     CHECK (length(\`key\`) < 10),
     CONSTRAINT fk2 FOREIGN KEY (org) REFERENCES orgs (id) ON UPDATE SET NULL
   )`,
  'CREATE INDEX idx_lower ON [we"ird table] (lower(`key`), org DESC) WHERE org IS NOT NULL',
  'CREATE VIEW v_orgs AS SELECT name FROM orgs',
  "CREATE TRIGGER orgs_ai AFTER INSERT ON orgs BEGIN SELECT 'x;y'; END",
  'CREATE TABLE strata_history (revision TEXT)',
  'CREATE VIRTUAL TABLE docs USING fts5(body)',
  "INSERT INTO orgs (name) VALUES ('acme')",
]

describe('sqlite introspector', () => {
  it('reads columns, indexes, every kind of constraint (named, unnamed, column-level), views and triggers', async () => {
    await exec(db.conn, ...SCHEMA)
    const schema = await snapshot(db.conn)
    expect(schema.tables.map((t) => t.name)).toEqual(['docs', 'orgs', 'we"ird table'])
    expect(schema.views).toEqual([{ name: 'v_orgs', sql: 'CREATE VIEW v_orgs AS SELECT name FROM orgs' }])
    expect(schema.triggers).toEqual([{ name: 'orgs_ai', table: 'orgs', sql: "CREATE TRIGGER orgs_ai AFTER INSERT ON orgs BEGIN SELECT 'x;y'; END" }])
    const [, orgs, weird] = schema.tables
    expect(orgs).toEqual({
      name: 'orgs',
      columns: [
        { name: 'id', type: 'INTEGER', nullable: true, default: null, primaryKey: 1, autoIncrement: true },
        { name: 'name', type: 'TEXT', nullable: false, default: null, primaryKey: 0 },
      ],
      indexes: [],
      constraints: [
        { name: null, kind: 'primaryKey', columns: ['id'] },
        { name: null, kind: 'unique', columns: ['name'] },
      ],
      sql: SCHEMA[0],
    })
    expect(weird?.columns).toEqual([
      { name: 'key', type: 'TEXT', nullable: false, default: "'a,b)c'", primaryKey: 1 },
      { name: 'sp ace', type: 'INTEGER', nullable: true, default: '-1', primaryKey: 2 }, // SQLite: PK columns may hold NULL
      { name: 'org', type: 'INT', nullable: true, default: null, primaryKey: 0 },
      { name: 'twice', type: '', nullable: true, default: null, primaryKey: 0 },
    ])
    expect(weird?.indexes).toEqual([
      { name: 'idx_lower', columns: ['lower(`key`)', 'org'], unique: false, where: 'org IS NOT NULL', sql: SCHEMA[2] },
    ])
    expect(weird?.constraints).toEqual([
      { name: 'fk2', kind: 'foreignKey', columns: ['org'], refTable: 'orgs', refColumns: ['id'], onUpdate: 'SET NULL' },
      { name: 'pk', kind: 'primaryKey', columns: ['key', 'sp ace'] },
      { name: 'sp_pos', kind: 'check', columns: ['sp ace'], expression: '"sp ace" > 0' },
      { name: 'uq', kind: 'unique', columns: ['org'] },
      { name: null, kind: 'check', columns: [], expression: 'length(`key`) < 10' },
      // `REFERENCES orgs` names no column: the parent's primary key, from PRAGMA foreign_key_list + table_info.
      { name: null, kind: 'foreignKey', columns: ['org'], refTable: 'orgs', refColumns: ['id'], onDelete: 'CASCADE' },
    ])
  })

  it('leaves out sqlite_*, fts shadow tables and names with the strata prefix (any case)', async () => {
    await exec(db.conn, ...SCHEMA, 'CREATE TABLE Strata_Log (x)', 'CREATE VIEW strata_v AS SELECT 1', 'CREATE TRIGGER strata_t AFTER INSERT ON orgs BEGIN SELECT 1; END')
    const schema = await snapshot(db.conn)
    const names = [...schema.tables, ...schema.views, ...schema.triggers].map((o) => o.name)
    expect(names).toEqual(['docs', 'orgs', 'we"ird table', 'v_orgs', 'orgs_ai'])
    const all = await sqliteDialect.introspect(db.conn, '')
    expect(all.tables.map((t) => t.name)).toContain('strata_history')
  })

  it('is deterministic: the same schema created in another order gives the same snapshot', async () => {
    await exec(db.conn, ...SCHEMA)
    const other = await openTemp()
    try {
      const [orgs, weird, index, view, trigger, history, docs] = SCHEMA
      await exec(other.conn, docs!, history!, orgs!, trigger!, view!, weird!, index!)
      expect(await snapshot(other.conn)).toEqual(await snapshot(db.conn))
      expect(await snapshot(db.conn)).toEqual(await snapshot(db.conn))
    } finally {
      await other.cleanup()
    }
  })

  it('inspectTables: keyed by the name asked for, absent ones left out, with the dependents a rebuild needs', async () => {
    await exec(
      db.conn,
      ...SCHEMA,
      'CREATE VIEW v_orgs_2 AS SELECT upper(name) FROM v_orgs',
      'CREATE TABLE log (msg TEXT)',
      "CREATE TRIGGER log_ai AFTER INSERT ON log BEGIN UPDATE orgs SET name = name WHERE 0; END",
      "CREATE TRIGGER log_other AFTER INSERT ON log BEGIN SELECT 1; END",
    )
    const tables = await sqliteDialect.inspectTables(db.conn, ['ORGS', 'missing'])
    expect([...tables.keys()]).toEqual(['ORGS'])
    const orgs = tables.get('ORGS') as SqliteTableSnapshot
    expect(orgs.name).toBe('orgs')
    expect(orgs.dependents?.triggers.map((t) => t.name)).toEqual(['orgs_ai'])
    expect(orgs.dependents?.views.map((v) => v.name)).toEqual(['v_orgs', 'v_orgs_2'])
    expect(orgs.dependents?.otherTriggers.map((t) => t.name)).toEqual(['log_ai'])
    const { dependents: _, ...plain } = orgs
    expect(plain).toEqual((await snapshot(db.conn)).tables.find((t) => t.name === 'orgs'))
    expect(await sqliteDialect.inspectTables(db.conn, [])).toEqual(new Map())
  })

  it('reads a 300-table schema in one pass: each table as when it is inspected alone, or introspected with its parent only', async () => {
    // Tables of six shapes, all referencing `root`; the facts of all tables come back from one
    // query, so a mix-up between tables would show as a difference from the one-table results.
    const shapes = [
      (n: string) => [
        `CREATE TABLE t_${n} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT 'x', parent INT REFERENCES root ON DELETE CASCADE)`,
        `CREATE INDEX t_${n}_name ON t_${n} (name)`,
      ],
      (n: string) => [
        `CREATE TABLE "T_${n}" (a TEXT, b INT, c REAL CHECK (c > 0), CONSTRAINT pk_${n} PRIMARY KEY (a, b), CONSTRAINT uq_${n} UNIQUE (c),
           CONSTRAINT fk_${n} FOREIGN KEY (b) REFERENCES root (id) ON UPDATE SET NULL)`,
      ],
      (n: string) => [
        `CREATE TABLE t_${n} (k TEXT PRIMARY KEY, v INT, doubled INT AS (v * 2) STORED, r INT, FOREIGN KEY (r) REFERENCES root) WITHOUT ROWID`,
        `CREATE UNIQUE INDEX t_${n}_v ON t_${n} (v) WHERE v IS NOT NULL`,
        `CREATE INDEX t_${n}_expr ON t_${n} (lower(k), v DESC)`,
      ],
      (n: string) => [`CREATE TABLE [odd "${n}"] (x, y BLOB)`],
      (n: string) => [
        `CREATE TABLE t_${n} (id INTEGER PRIMARY KEY, rid INT, rcode TEXT, UNIQUE (rid, rcode),
           CONSTRAINT fk_${n} FOREIGN KEY (rid, rcode) REFERENCES root (id, code) ON DELETE SET DEFAULT)`,
      ],
      (n: string) => [
        `CREATE TABLE t_${n} (id INTEGER PRIMARY KEY, body TEXT COLLATE NOCASE UNIQUE ON CONFLICT REPLACE,
           n INT NOT NULL CONSTRAINT n_pos_${n} CHECK (n >= 0) DEFAULT 0, other INT REFERENCES root (code))`,
        `CREATE INDEX t_${n}_n ON t_${n} (n) WHERE n > 10`,
      ],
    ]
    const root = 'CREATE TABLE root (id INTEGER PRIMARY KEY, code TEXT UNIQUE)'
    const tables = Array.from({ length: 300 }, (_, i) => {
      const n = String(i).padStart(3, '0')
      const statements = shapes[i % shapes.length]!(n)
      return { name: /^CREATE TABLE ("?)(\w+)\1 /.exec(statements[0]!)?.[2] ?? `odd "${n}"`, statements }
    })
    await exec(db.conn, 'BEGIN', root, ...tables.flatMap((t) => t.statements), 'COMMIT')

    const schema = await snapshot(db.conn)
    expect(schema.tables).toHaveLength(301)
    const full = (name: string) => schema.tables.find((t) => t.name === name)
    const sample = [0, 1, 2, 3, 4, 5, 150, 151, 152, 153, 154, 155, 298, 299].map((i) => tables[i]!)
    for (const table of sample) {
      expect(full(table.name), table.name).toBeDefined()
      const alone = (await sqliteDialect.inspectTables(db.conn, [table.name])).get(table.name)
      const { dependents: _, ...plain } = alone as SqliteTableSnapshot
      expect(plain, table.name).toEqual(full(table.name))
      const other = await openTemp()
      try {
        await exec(other.conn, root, ...table.statements)
        expect((await snapshot(other.conn)).tables.find((t) => t.name === table.name), table.name).toEqual(full(table.name))
      } finally {
        await other.cleanup()
      }
    }
    // Several names at once: keyed by the name asked for, any case, repeats and absent ones allowed.
    const many = await sqliteDialect.inspectTables(db.conn, ['T_004', 't_002', 'missing', 't_002', 'ROOT', 'odd "153"'])
    expect([...many.keys()]).toEqual(['T_004', 't_002', 'ROOT', 'odd "153"'])
    for (const [asked, table] of many) {
      const { dependents: _, ...plain } = table as SqliteTableSnapshot
      expect(plain, asked).toEqual(full(table.name))
    }
    expect(full('t_002')?.indexes.map((i) => [i.name, i.columns, i.where])).toEqual([
      ['t_002_expr', ['lower(k)', 'v'], null],
      ['t_002_v', ['v'], 'v IS NOT NULL'],
    ])
    expect(full('t_000')?.constraints.find((c) => c.kind === 'foreignKey')).toEqual({
      name: null, kind: 'foreignKey', columns: ['parent'], refTable: 'root', refColumns: ['id'], onDelete: 'CASCADE',
    })
  })
})
