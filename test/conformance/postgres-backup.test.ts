import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPostgresBackup, postgresBackup, postgresClientEnv } from '../../src/backup/engines/postgres-backup.js'
import type { CopyFacts } from '../../src/backup/engine.js'
import type { Connection, DatabaseUrl } from '../../src/dialects/dialect.js'
import { openPostgres } from '../../src/dialects/postgres/postgres-driver.js'
import { SERVER, exec, openSchema, rejection, sql, type TempSchema } from './postgres-harness.js'

// The PostgreSQL backup engine against the real server and client programs (STYLE 3.11). Every
// test works in a schema or database of its own, since other files run at the same time.

/** Scratch databases `inspect` made in this file, to check each was dropped. */
const scratches: string[] = []
const engine = createPostgresBackup({
  lockTimeoutMs: 1000,
  scratchName: () => {
    const name = `strata_verify_${randomBytes(8).toString('hex')}`
    scratches.push(name)
    return name
  },
})

function urlOf(raw: string): DatabaseUrl {
  return { dialect: 'postgres', raw, redacted: raw }
}

/** SERVER pointed at another database, with optional extra parameters. */
function databaseUrl(database: string, params = ''): DatabaseUrl {
  const parsed = new URL(SERVER)
  parsed.pathname = `/${database}`
  for (const [name, value] of new URLSearchParams(params)) parsed.searchParams.set(name, value)
  return urlOf(parsed.toString())
}

async function withConnection<T>(url: DatabaseUrl, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await openPostgres(url, { create: false })
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

/** Names of this file's scratch databases that still exist. */
async function leftoverScratches(): Promise<string[]> {
  return withConnection(urlOf(SERVER), async (conn) => {
    const rows = await sql<{ datname: string }>(conn, 'SELECT datname FROM pg_database WHERE datname = ANY(?::text[])', scratches)
    return rows.map((row) => row.datname)
  })
}

/** Columns, indexes, constraints, views and sequences of the schemas: what a restore must bring back. */
async function shape(conn: Connection, schemas: readonly string[]): Promise<unknown> {
  const list = [...schemas]
  return {
    columns: await sql(conn, `SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
                              WHERE table_schema = ANY(?::text[]) ORDER BY 1, 2, ordinal_position`, list),
    indexes: await sql(conn, 'SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ANY(?::text[]) ORDER BY 1, 2, 3', list),
    constraints: await sql(conn, `SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
                                  JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = ANY(?::text[]) ORDER BY 1, 2`, list),
    views: await sql(conn, 'SELECT schemaname, viewname, definition FROM pg_views WHERE schemaname = ANY(?::text[]) ORDER BY 1, 2', list),
    sequences: await sql(conn, 'SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE schemaname = ANY(?::text[]) ORDER BY 1, 2', list),
    schemas: await sql(conn, `SELECT nspname, nspowner::regrole::text AS owner, nspacl::text AS acl, obj_description(oid, 'pg_namespace') AS comment
                              FROM pg_namespace WHERE nspname = ANY(?::text[]) ORDER BY 1`, list),
  }
}

/** Every row of the test tables, in order. */
async function data(conn: Connection, prefix = ''): Promise<unknown> {
  return {
    items: await sql(conn, `SELECT * FROM ${prefix}items ORDER BY id`),
    orders: await sql(conn, `SELECT * FROM ${prefix}orders ORDER BY id`),
    history: await sql(conn, `SELECT * FROM ${prefix}strata_history ORDER BY id`),
  }
}

/**
 * Three tables (one of them strata's own), a view, a sequence and an index; `items` holds enough
 * hard-to-compress text that the middle of a dump is table data.
 */
async function seed(conn: Connection, prefix = ''): Promise<void> {
  await exec(conn,
    `CREATE TABLE ${prefix}items (id int PRIMARY KEY, name text NOT NULL, qty int)`,
    `CREATE INDEX items_name_idx ON ${prefix}items (name)`,
    `INSERT INTO ${prefix}items SELECT g, md5(g::text) || md5((g * 7)::text), g % 10 FROM generate_series(1, 3000) g`,
    `CREATE TABLE ${prefix}orders (id bigserial PRIMARY KEY, item_id int NOT NULL REFERENCES ${prefix}items (id), note text)`,
    `INSERT INTO ${prefix}orders (item_id, note) SELECT g, 'order ' || g FROM generate_series(1, 5) g`,
    `CREATE TABLE ${prefix}strata_history (id serial PRIMARY KEY, revision text NOT NULL)`,
    `INSERT INTO ${prefix}strata_history (revision) VALUES ('001_init'), ('002_orders')`,
    `CREATE VIEW ${prefix}item_names AS SELECT id, name FROM ${prefix}items`,
  )
}

/** What a failed or successful restore is measured against: changes of every kind after the backup. */
async function changeEverything(conn: Connection): Promise<void> {
  await exec(conn,
    'DROP VIEW item_names',
    'DELETE FROM orders WHERE id > 2',
    'DELETE FROM items WHERE id > 100 AND id NOT IN (SELECT item_id FROM orders)',
    'ALTER TABLE items ADD COLUMN price numeric',
    "UPDATE items SET name = 'changed' WHERE id = 1",
    "INSERT INTO orders (item_id, note) VALUES (3, 'after the backup')",
    "INSERT INTO strata_history (revision) VALUES ('003_price')",
    'CREATE TABLE extra (id int PRIMARY KEY)',
    'INSERT INTO extra VALUES (1)',
  )
}

/** `create`, whose facts this engine always returns. */
async function backup(url: DatabaseUrl, file: string): Promise<CopyFacts> {
  const facts = await engine.create(url, file)
  if (facts === null) throw new Error('create returned no facts')
  return facts
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'strata-pg-backup-'))
}

/** XORs `length` bytes in the middle of the file. */
async function flipMiddle(file: string, length = 64): Promise<void> {
  const bytes = await readFile(file)
  const middle = Math.floor(bytes.length / 2)
  for (let i = middle; i < middle + length; i++) bytes[i] = bytes[i]! ^ 0xff
  await writeFile(file, bytes)
}

describe('PostgreSQL backup of one schema (?schema=NAME)', () => {
  let temp: TempSchema
  let dir: string
  let file: string

  beforeEach(async () => {
    temp = await openSchema()
    dir = await tempDir()
    file = join(dir, 'copy.dump')
    await seed(temp.conn)
  })

  afterEach(async () => {
    await temp.cleanup()
    await rm(dir, { recursive: true, force: true })
  })

  it('create writes a 0600 pg_dump copy; its facts are the rows of the dumped snapshot, strata_ tables included', async () => {
    const facts = await engine.create(temp.url, file)
    expect(facts).toEqual({ rowCounts: { items: 3000, orders: 5, strata_history: 2 }, integrity: 'ok' })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await readFile(file)).subarray(0, 5).toString('latin1')).toBe('PGDMP')
    expect(await engine.live(temp.url)).toEqual(facts)
    expect(await engine.estimateSize(temp.url)).toBeGreaterThan(0)
    expect(engine.extension).toBe('.dump')
    expect(engine.format).toBe('pg_dump-custom')
  })

  it('create refuses to overwrite a file and reports a schema that does not exist', async () => {
    await writeFile(file, 'old')
    expect((await rejection(() => engine.create(temp.url, file))).message).toMatch(/EEXIST|exists/)
    expect(await readFile(file, 'utf8')).toBe('old')
    const missing = urlOf(`${SERVER}${SERVER.includes('?') ? '&' : '?'}schema=strata_nope_${randomBytes(4).toString('hex')}`)
    const error = await rejection(() => engine.create(missing, join(dir, 'other.dump')))
    expect(error.code).toBe('E_BACKUP')
    expect(error.message).toMatch(/schema "strata_nope_\w+" does not exist/)
  })

  it('an invalid index is reported as the integrity result of the live database and of the copy', async () => {
    await exec(temp.conn, 'INSERT INTO orders (item_id) VALUES (1), (1)')
    // A failed CONCURRENTLY build leaves its index behind, marked invalid.
    await expect(exec(temp.conn, 'CREATE UNIQUE INDEX CONCURRENTLY orders_item_uq ON orders (item_id)')).rejects.toThrow()
    expect((await engine.live(temp.url)).integrity).toBe('invalid index orders_item_uq')
    expect((await backup(temp.url, file)).integrity).toBe('invalid index orders_item_uq')
  })

  it('inspect restores the copy into a scratch database, reads the same facts there and drops it', async () => {
    const facts = await engine.create(temp.url, file)
    const before = scratches.length
    expect(await engine.inspect(temp.url, file)).toEqual(facts)
    expect(scratches.length).toBe(before + 1)
    expect(await leftoverScratches()).toEqual([])
  })

  it('inspect rejects a damaged or truncated copy with E_BACKUP and pg_restore\'s message, leaving no scratch database', async () => {
    await engine.create(temp.url, file)
    const damaged = join(dir, 'damaged.dump')
    await writeFile(damaged, await readFile(file))
    await flipMiddle(damaged)
    const flipped = await rejection(() => engine.inspect(temp.url, damaged))
    expect(flipped.code).toBe('E_BACKUP')
    expect(flipped.message).toContain(damaged)
    expect(flipped.message).toMatch(/pg_restore/)

    const size = (await stat(file)).size
    await truncate(file, Math.floor(size / 2))
    const truncated = await rejection(() => engine.inspect(temp.url, file))
    expect(truncated.code).toBe('E_BACKUP')
    expect(truncated.message).toMatch(/pg_restore .*: .+/s)

    await writeFile(damaged, 'not a dump at all')
    const foreign = await rejection(() => engine.inspect(temp.url, damaged))
    expect(foreign.code).toBe('E_BACKUP')
    expect(foreign.message).toMatch(/not a readable pg_dump archive/)
    expect(await leftoverScratches()).toEqual([])
  })

  it('restore brings back exactly the backed-up schema and rows; objects made afterwards are gone', async () => {
    const shapeBefore = await shape(temp.conn, [temp.schema])
    const dataBefore = await data(temp.conn)
    const facts = await engine.create(temp.url, file)
    await changeEverything(temp.conn)

    await engine.restore(temp.url, file)

    expect(await shape(temp.conn, [temp.schema])).toEqual(shapeBefore)
    expect(await data(temp.conn)).toEqual(dataBefore)
    expect(await engine.live(temp.url)).toEqual(facts)
    // The sequence goes on where the copy left it.
    expect(await sql(temp.conn, "INSERT INTO orders (item_id) VALUES (1) RETURNING id")).toEqual([{ id: '6' }])
  })

  it('a restore that cannot take its locks gives up after lock_timeout and changes nothing', async () => {
    await engine.create(temp.url, file)
    await changeEverything(temp.conn)
    const shapeBefore = await shape(temp.conn, [temp.schema])
    const dataBefore = await data(temp.conn)
    const holder = await openPostgres(temp.url)
    try {
      await exec(holder, 'BEGIN', 'SELECT count(*) FROM items')
      const error = await rejection(() => engine.restore(temp.url, file))
      expect(error.code).toBe('E_BACKUP')
      expect(error.message).toMatch(/database is unchanged.*lock timeout/s)
      expect(error.details?.['hint']).toMatch(/another session holds locks/)
    } finally {
      await holder.close()
    }
    expect(await shape(temp.conn, [temp.schema])).toEqual(shapeBefore)
    expect(await data(temp.conn)).toEqual(dataBefore)
  })

  it('a copy that breaks part-way through the restore leaves the live database untouched', async () => {
    await engine.create(temp.url, file)
    // The table of contents survives; the table data does not.
    await truncate(file, Math.floor((await stat(file)).size * 0.6))
    await changeEverything(temp.conn)
    const shapeBefore = await shape(temp.conn, [temp.schema])
    const dataBefore = await data(temp.conn)

    const error = await rejection(() => engine.restore(temp.url, file))

    expect(error.code).toBe('E_BACKUP')
    expect(error.message).toMatch(/database is unchanged: pg_restore/)
    expect(await shape(temp.conn, [temp.schema])).toEqual(shapeBefore)
    expect(await data(temp.conn)).toEqual(dataBefore)
  })

  it('a schema name with capitals, spaces and quotes is matched literally', async () => {
    const schema = `Strata "Odd" ${randomBytes(4).toString('hex')}`
    const quoted = `"${schema.replace(/"/g, '""')}"`
    const url = urlOf(`${SERVER}${SERVER.includes('?') ? '&' : '?'}schema=${encodeURIComponent(schema)}`)
    const conn = await openPostgres(url)
    try {
      await exec(conn, `CREATE TABLE ${quoted}."T" (id int)`, `INSERT INTO ${quoted}."T" VALUES (1), (2)`)
      const facts = await backup(url, file)
      expect(facts.rowCounts).toEqual({ T: 2 })
      await exec(conn, `INSERT INTO ${quoted}."T" VALUES (3)`)
      expect(await engine.inspect(url, file)).toEqual(facts)
      await engine.restore(url, file)
      expect(await engine.live(url)).toEqual(facts)
    } finally {
      await exec(conn, `DROP SCHEMA IF EXISTS ${quoted} CASCADE`).finally(() => conn.close())
    }
  })
})

describe('PostgreSQL backup of a whole database (no schema parameter)', () => {
  const database = `strata_bk_${randomBytes(6).toString('hex')}`
  const url = databaseUrl(database)
  let conn: Connection
  let dir: string

  beforeAll(async () => {
    await withConnection(urlOf(SERVER), (admin) => exec(admin, `CREATE DATABASE ${database}`))
    conn = await openPostgres(url)
    dir = await tempDir()
  })

  afterAll(async () => {
    await conn?.close()
    await withConnection(urlOf(SERVER), (admin) => exec(admin, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
    await rm(dir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    await exec(conn,
      'DROP SCHEMA IF EXISTS s2 CASCADE', 'DROP SCHEMA IF EXISTS s3 CASCADE', 'DROP SCHEMA public CASCADE',
      'CREATE SCHEMA public AUTHORIZATION pg_database_owner', 'GRANT USAGE ON SCHEMA public TO PUBLIC',
      "COMMENT ON SCHEMA public IS 'standard public schema'", 'CREATE SCHEMA s2',
    )
    await seed(conn)
    await exec(conn, 'CREATE TABLE s2.u (id int PRIMARY KEY, t text)', "INSERT INTO s2.u VALUES (1, 'a'), (2, 'b')",
      'CREATE VIEW s2.v AS SELECT i.id FROM public.items i JOIN s2.u ON u.id = i.id',
      'REVOKE CREATE ON SCHEMA s2 FROM PUBLIC', 'GRANT USAGE ON SCHEMA s2 TO PUBLIC')
  })

  it('create counts every user schema, keying tables outside public as schema.table; inspect agrees', async () => {
    const file = join(dir, 'all-facts.dump')
    const facts = await engine.create(url, file)
    expect(facts).toEqual({ rowCounts: { items: 3000, orders: 5, strata_history: 2, 's2.u': 2 }, integrity: 'ok' })
    expect(await engine.inspect(url, file)).toEqual(facts)
    expect(await leftoverScratches()).toEqual([])
    expect(await engine.estimateSize(url)).toBeGreaterThan((await stat(file)).size)
  })

  it('restore replaces every schema: dropped schemas return, new ones go, public keeps its grants and comment', async () => {
    const file = join(dir, 'all-restore.dump')
    const schemas = ['public', 's2', 's3']
    const shapeBefore = await shape(conn, schemas)
    const dataBefore = { ...(await data(conn)) as object, u: await sql(conn, 'SELECT * FROM s2.u ORDER BY id') }
    const facts = await engine.create(url, file)
    await changeEverything(conn)
    await exec(conn, 'DROP SCHEMA s2 CASCADE', 'CREATE SCHEMA s3', 'CREATE TABLE s3.w (id int)', 'GRANT CREATE ON SCHEMA public TO PUBLIC')

    await engine.restore(url, file)

    expect(await shape(conn, schemas)).toEqual(shapeBefore)
    expect({ ...(await data(conn)) as object, u: await sql(conn, 'SELECT * FROM s2.u ORDER BY id') }).toEqual(dataBefore)
    expect(await engine.live(url)).toEqual(facts)
  })

  it('with ?schema=public only public is backed up and replaced; other schemas stay as they are', async () => {
    const publicUrl = databaseUrl(database, 'schema=public')
    const file = join(dir, 'public.dump')
    const shapeBefore = await shape(conn, ['public'])
    const dataBefore = await data(conn)
    const facts = await backup(publicUrl, file)
    expect(facts.rowCounts).toEqual({ items: 3000, orders: 5, strata_history: 2 })
    expect(await engine.inspect(publicUrl, file)).toEqual(facts)
    // s2.v reads public.items: dropping public would take it along, so the restore is refused.
    const refused = await rejection(() => engine.restore(publicUrl, file))
    expect(refused.code).toBe('E_BACKUP')
    expect(refused.message).toMatch(/outside it that depend on it: rule _RETURN on view s2\.v/)
    await exec(conn, 'DROP VIEW s2.v')
    await changeEverything(conn)
    await exec(conn, "INSERT INTO s2.u VALUES (3, 'kept')")

    await engine.restore(publicUrl, file)

    expect(await shape(conn, ['public'])).toEqual(shapeBefore)
    expect(await data(conn)).toEqual(dataBefore)
    expect(await sql(conn, 'SELECT count(*)::int AS n FROM s2.u')).toEqual([{ n: 3 }])
  })
})

describe('PostgreSQL client programs', () => {
  let dir: string

  beforeEach(async () => {
    dir = await tempDir()
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('without pg_dump on PATH, create fails with E_BACKUP naming it and how to install it', async () => {
    const path = process.env['PATH']
    process.env['PATH'] = join(dir, 'empty')
    try {
      const error = await rejection(() => postgresBackup.create(urlOf(SERVER), join(dir, 'x.dump')))
      expect(error.code).toBe('E_BACKUP')
      expect(error.message).toMatch(/pg_dump is not installed/)
      expect(error.details?.['hint']).toMatch(/postgresql-client/)
    } finally {
      process.env['PATH'] = path
    }
    await expect(stat(join(dir, 'x.dump'))).rejects.toThrow(/ENOENT/)
  })

  it('a pg_dump that fails leaves no file behind and its message in the error', async () => {
    await writeFile(join(dir, 'pg_dump'), "#!/bin/sh\necho 'pg_dump: error: the disk is on fire' >&2\nexit 1\n")
    await chmod(join(dir, 'pg_dump'), 0o755)
    const temp = await openSchema()
    const path = process.env['PATH']
    process.env['PATH'] = `${dir}${delimiter}${path}`
    try {
      const error = await rejection(() => engine.create(temp.url, join(dir, 'copy.dump')))
      expect(error.code).toBe('E_BACKUP')
      expect(error.message).toMatch(/pg_dump exited with status 1: pg_dump: error: the disk is on fire/)
    } finally {
      process.env['PATH'] = path
      await temp.cleanup()
    }
    await expect(stat(join(dir, 'copy.dump'))).rejects.toThrow(/ENOENT/)
  })

  it('connection settings reach the programs through the environment, never the password in argv', async () => {
    const env = postgresClientEnv(urlOf('postgres://u%40x:p%20w@db.example:6543/app%2Fdb?sslmode=require&schema=s&application_name=a'))
    expect(env).toEqual({ PGHOST: 'db.example', PGPORT: '6543', PGUSER: 'u@x', PGPASSWORD: 'p w', PGDATABASE: 'app/db', PGSSLMODE: 'require', PGAPPNAME: 'a' })

    // A pg_dump stand-in records its arguments and environment, then runs the real one.
    const parsed = new URL(SERVER)
    if (!parsed.password) parsed.password = `secret${randomBytes(4).toString('hex')}` // trust auth ignores it
    const temp = await openSchema()
    try {
      const url = urlOf(`${parsed.toString()}${parsed.search ? '&' : '?'}schema=${temp.schema}`)
      const real = await which('pg_dump')
      const log = join(dir, 'argv.log')
      await writeFile(join(dir, 'pg_dump'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\necho "PGPASSWORD=$PGPASSWORD" >> '${log}'\nexec '${real}' "$@"\n`)
      await chmod(join(dir, 'pg_dump'), 0o755)
      const path = process.env['PATH']
      process.env['PATH'] = `${dir}${delimiter}${path}`
      try {
        await engine.create(url, join(dir, 'copy.dump'))
      } finally {
        process.env['PATH'] = path
      }
      const lines = (await readFile(log, 'utf8')).trim().split('\n')
      const password = decodeURIComponent(parsed.password)
      expect(lines.at(-1)).toBe(`PGPASSWORD=${password}`)
      expect(lines.slice(0, -1).join('\n')).not.toContain(password)
      expect(lines).toContain(`--schema="${temp.schema}"`)
    } finally {
      await temp.cleanup()
    }
  })
})

/** The absolute path of a program on PATH. */
async function which(program: string): Promise<string> {
  for (const folder of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(folder, program)
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate
  }
  throw new Error(`${program} is not on PATH`)
}
