import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Connection, Statement } from '../../src/dialects/dialect.js'
import {
  inspectPostgresTables,
  introspectPostgres,
  postgresCatalogFingerprint,
} from '../../src/dialects/postgres/postgres-introspector.js'
import { diffSchemas } from '../../src/schema/diff.js'
import { exec, openSchema, snapshot, type TempSchema } from './postgres-harness.js'

// The introspector and the catalog fingerprint on a real server: what they read, what they
// leave out, that they are deterministic, and that drift behind strata's back shows.

let db: TempSchema
let other: TempSchema
beforeEach(async () => {
  db = await openSchema()
  other = await openSchema()
})
afterEach(async () => {
  await db.cleanup()
  await other.cleanup()
})

const schemaSql = (otherSchema: string): string[] => [
  'CREATE TABLE orgs (id serial PRIMARY KEY, name text NOT NULL UNIQUE)',
  `CREATE TABLE "We""ird" (
     "Key" varchar(10) NOT NULL DEFAULT 'a,b)c',
     n integer CONSTRAINT n_pos CHECK (n > 0) DEFAULT -1,
     org integer REFERENCES orgs ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
     ext integer,
     twice integer GENERATED ALWAYS AS (n * 2) STORED,
     made timestamptz DEFAULT now(),
     CONSTRAINT pk PRIMARY KEY ("Key", n),
     CONSTRAINT fk_ext FOREIGN KEY (ext) REFERENCES "${otherSchema}".ext (id) ON UPDATE SET NULL
   )`,
  'CREATE INDEX idx_lower ON "We""ird" (lower("Key"), org DESC) WHERE org IS NOT NULL',
  'CREATE UNIQUE INDEX idx_org ON "We""ird" (org)',
  'CREATE VIEW v_orgs AS SELECT name FROM orgs',
  "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.name := NEW.name || ';'; RETURN NEW; END$$",
  'CREATE TRIGGER orgs_bi BEFORE INSERT ON orgs FOR EACH ROW EXECUTE FUNCTION touch()',
  'CREATE TABLE strata_history (revision text PRIMARY KEY)',
  'CREATE TABLE "STRATA_Log" (id integer)',
  'CREATE TRIGGER own_bi BEFORE INSERT ON strata_history FOR EACH ROW EXECUTE FUNCTION touch()',
  'CREATE TRIGGER strata_guard BEFORE INSERT ON orgs FOR EACH ROW EXECUTE FUNCTION touch()',
  'CREATE TABLE empty ()',
  "INSERT INTO orgs (name) VALUES ('acme')",
]

async function createSchema(target: TempSchema, ext: TempSchema): Promise<void> {
  await exec(ext.conn, 'CREATE TABLE IF NOT EXISTS ext (id integer PRIMARY KEY)')
  await exec(target.conn, ...schemaSql(ext.schema))
}

/** A connection that counts the statements sent through it. */
function counting(conn: Connection): { conn: Connection; count: () => number } {
  let n = 0
  const wrap = (s: Statement): Statement => {
    n++
    return s
  }
  return {
    conn: {
      dialect: conn.dialect,
      execute: (s) => conn.execute(wrap(s)),
      query: (s) => conn.query(wrap(s)),
      transaction: (fn) => conn.transaction(fn),
      close: () => conn.close(),
    },
    count: () => n,
  }
}

describe('postgres introspector', () => {
  it('reads columns, indexes, every kind of constraint, views and triggers; leaves out strata tables and internal objects', async () => {
    await createSchema(db, other)
    const schema = await snapshot(db.conn)
    expect(schema.tables.map((t) => t.name)).toEqual(['We"ird', 'empty', 'orgs'])
    const [weird, empty, orgs] = schema.tables
    expect(weird).toEqual({
      name: 'We"ird',
      columns: [
        { name: 'Key', type: 'character varying(10)', nullable: false, default: "'a,b)c'::character varying", primaryKey: 1 },
        { name: 'n', type: 'integer', nullable: false, default: '\'-1\'::integer', primaryKey: 2 },
        { name: 'org', type: 'integer', nullable: true, default: null, primaryKey: 0 },
        { name: 'ext', type: 'integer', nullable: true, default: null, primaryKey: 0 },
        { name: 'twice', type: 'integer', nullable: true, default: 'GENERATED ALWAYS AS ((n * 2)) STORED', primaryKey: 0 },
        { name: 'made', type: 'timestamp with time zone', nullable: true, default: 'now()', primaryKey: 0 },
      ],
      indexes: [
        { name: 'idx_lower', columns: ['lower("Key"::text)', 'org'], unique: false, where: '(org IS NOT NULL)' },
        { name: 'idx_org', columns: ['org'], unique: true, where: null },
      ],
      constraints: [
        { name: 'We"ird_org_fkey', kind: 'foreignKey', columns: ['org'], refTable: 'orgs', refColumns: ['id'], onDelete: 'CASCADE' },
        { name: 'fk_ext', kind: 'foreignKey', columns: ['ext'], refTable: `${other.schema}.ext`, refColumns: ['id'], onUpdate: 'SET NULL' },
        { name: 'n_pos', kind: 'check', columns: ['n'], expression: '(n > 0)' },
        { name: 'pk', kind: 'primaryKey', columns: ['Key', 'n'] },
      ],
    })
    expect(empty).toEqual({ name: 'empty', columns: [], indexes: [], constraints: [] })
    expect(orgs).toEqual({
      name: 'orgs',
      columns: [
        { name: 'id', type: 'integer', nullable: false, default: "nextval('orgs_id_seq'::regclass)", primaryKey: 1, autoIncrement: true },
        { name: 'name', type: 'text', nullable: false, default: null, primaryKey: 0 },
      ],
      indexes: [],
      constraints: [
        { name: 'orgs_name_key', kind: 'unique', columns: ['name'] },
        { name: 'orgs_pkey', kind: 'primaryKey', columns: ['id'] },
      ],
    })
    expect(schema.views).toEqual([{ name: 'v_orgs', sql: ' SELECT orgs.name\n   FROM orgs;' }])
    expect(schema.triggers).toEqual([
      { name: 'orgs_bi', table: 'orgs', sql: 'CREATE TRIGGER orgs_bi BEFORE INSERT ON orgs FOR EACH ROW EXECUTE FUNCTION touch()' },
    ])
  })

  it('is deterministic and independent of the schema name: the same DDL in two schemas gives equal snapshots', async () => {
    const third = await openSchema()
    try {
      await createSchema(db, third)
      await createSchema(other, third)
      const a = await snapshot(db.conn)
      expect(await snapshot(db.conn)).toEqual(a)
      expect(await snapshot(other.conn)).toEqual(a)
      // An explicit schema off the search_path: the same objects; texts naming them are qualified.
      const explicit = await introspectPostgres(db.conn, 'strata_', other.schema)
      const names = (s: typeof a): unknown => [s.tables.map((t) => [t.name, t.columns.map((c) => c.name), t.indexes, t.constraints]), s.views.map((v) => v.name), s.triggers.map((t) => t.name)]
      expect(names(explicit)).toEqual(names(a))
      expect(explicit.views[0]?.sql).toBe(` SELECT orgs.name\n   FROM ${other.schema}.orgs;`)
    } finally {
      await third.cleanup()
    }
  })

  it('an empty prefix leaves nothing out', async () => {
    await createSchema(db, other)
    const all = await introspectPostgres(db.conn, '')
    expect(all.tables.map((t) => t.name)).toEqual(['STRATA_Log', 'We"ird', 'empty', 'orgs', 'strata_history'])
    expect(all.triggers.map((t) => t.name)).toEqual(['orgs_bi', 'own_bi', 'strata_guard'])
  })

  it('uses one query whatever the number of tables', async () => {
    for (let i = 0; i < 30; i++) await exec(db.conn, `CREATE TABLE t${i} (id integer PRIMARY KEY, r integer REFERENCES t0 (id), v text UNIQUE)`, `CREATE INDEX i${i} ON t${i} (v)`)
    const counted = counting(db.conn)
    const schema = await introspectPostgres(counted.conn, 'strata_')
    expect(schema.tables).toHaveLength(30)
    expect(counted.count()).toBe(1)
    await inspectPostgresTables(counted.conn, ['t1', 't2', 't3'])
    expect(counted.count()).toBe(2)
    await postgresCatalogFingerprint(counted.conn, 'strata_')
    expect(counted.count()).toBe(3)
  })

  it('inspectTables returns the named tables keyed as asked, exact names only, absent ones left out', async () => {
    await createSchema(db, other)
    const tables = await inspectPostgresTables(db.conn, ['orgs', 'We"ird', 'ORGS', 'ghost', 'strata_history', 'v_orgs'])
    expect([...tables.keys()]).toEqual(['orgs', 'We"ird', 'strata_history'])
    const full = await snapshot(db.conn)
    expect(tables.get('orgs')).toEqual(full.tables.find((t) => t.name === 'orgs'))
    expect(tables.get('strata_history')?.columns.map((c) => c.name)).toEqual(['revision'])
    expect((await inspectPostgresTables(db.conn, [])).size).toBe(0)
  })
})

describe('postgres catalog fingerprint and drift', () => {
  beforeEach(async () => createSchema(db, other))

  it('is stable, and ignores data and strata tables', async () => {
    const first = await postgresCatalogFingerprint(db.conn, 'strata_')
    expect(first).toMatch(/^[0-9a-f]{64}$/)
    await exec(db.conn,
      "INSERT INTO orgs (name) VALUES ('b')",
      'ALTER TABLE strata_history ADD COLUMN note text',
      'CREATE INDEX strata_idx ON strata_history (note)',
      'ALTER TABLE "STRATA_Log" ADD CONSTRAINT strata_c CHECK (id > 0)',
    )
    expect(await postgresCatalogFingerprint(db.conn, 'strata_')).toBe(first)
    expect(await postgresCatalogFingerprint(db.conn, '')).not.toBe(first)
  })

  it('a column added behind strata\'s back changes the fingerprint, and diffSchemas names it', async () => {
    const recorded = await snapshot(db.conn)
    const fingerprint = await postgresCatalogFingerprint(db.conn, 'strata_')
    await exec(db.conn, 'ALTER TABLE orgs ADD COLUMN sneaky integer')
    expect(await postgresCatalogFingerprint(db.conn, 'strata_')).not.toBe(fingerprint)
    expect(diffSchemas(recorded, await snapshot(db.conn))).toEqual([{ kind: 'column', name: 'orgs.sneaky', change: 'added' }])
    await exec(db.conn, 'ALTER TABLE orgs DROP COLUMN sneaky')
    expect(await postgresCatalogFingerprint(db.conn, 'strata_')).toBe(fingerprint)
    expect(diffSchemas(recorded, await snapshot(db.conn))).toEqual([])
  })

  it('changes for every kind of schema object, and diffSchemas reports each', async () => {
    const cases: Array<[string, string, ReturnType<typeof diffSchemas>]> = [
      ["ALTER TABLE orgs ALTER COLUMN name SET DEFAULT 'x'", "ALTER TABLE orgs ALTER COLUMN name DROP DEFAULT", [{ kind: 'column', name: 'orgs.name', change: 'changed' }]],
      ['ALTER TABLE orgs ALTER COLUMN name DROP NOT NULL', 'ALTER TABLE orgs ALTER COLUMN name SET NOT NULL', [{ kind: 'column', name: 'orgs.name', change: 'changed' }]],
      ['ALTER TABLE "We""ird" ALTER COLUMN made TYPE timestamp', 'ALTER TABLE "We""ird" ALTER COLUMN made TYPE timestamptz', [{ kind: 'column', name: 'We"ird.made', change: 'changed' }]],
      ['CREATE INDEX orgs_name_idx ON orgs (name)', 'DROP INDEX orgs_name_idx', [{ kind: 'index', name: 'orgs.orgs_name_idx', change: 'added' }]],
      ['DROP INDEX idx_org', 'CREATE UNIQUE INDEX idx_org ON "We""ird" (org)', [{ kind: 'index', name: 'We"ird.idx_org', change: 'removed' }]],
      ['ALTER TABLE orgs ADD CONSTRAINT name_len CHECK (length(name) < 99)', 'ALTER TABLE orgs DROP CONSTRAINT name_len', [{ kind: 'constraint', name: 'orgs.name_len', change: 'added' }]],
      ['CREATE TRIGGER orgs_bu BEFORE UPDATE ON orgs FOR EACH ROW EXECUTE FUNCTION touch()', 'DROP TRIGGER orgs_bu ON orgs', [{ kind: 'trigger', name: 'orgs_bu', change: 'added' }]],
      ['CREATE OR REPLACE VIEW v_orgs AS SELECT name FROM orgs WHERE id > 0', 'CREATE OR REPLACE VIEW v_orgs AS SELECT name FROM orgs', [{ kind: 'view', name: 'v_orgs', change: 'changed' }]],
      // A rename shows wherever the name appears: the foreign key, the trigger, the view.
      ['ALTER TABLE orgs RENAME TO firms', 'ALTER TABLE firms RENAME TO orgs', [
        { kind: 'constraint', name: 'We"ird.We"ird_org_fkey', change: 'changed' },
        { kind: 'table', name: 'firms', change: 'added' },
        { kind: 'table', name: 'orgs', change: 'removed' },
        { kind: 'trigger', name: 'orgs_bi', change: 'changed' },
        { kind: 'view', name: 'v_orgs', change: 'changed' },
      ]],
    ]
    const recorded = await snapshot(db.conn)
    const fingerprint = await postgresCatalogFingerprint(db.conn, 'strata_')
    for (const [change, undo, expected] of cases) {
      await exec(db.conn, change)
      expect(await postgresCatalogFingerprint(db.conn, 'strata_'), change).not.toBe(fingerprint)
      expect(diffSchemas(recorded, await snapshot(db.conn)), change).toEqual(expected)
      await exec(db.conn, undo)
      expect(diffSchemas(recorded, await snapshot(db.conn)), undo).toEqual([])
    }
  })
})
