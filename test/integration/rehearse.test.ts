import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

/** `strata rehearse` (SPEC S10) on the SOP's flagship example. */

const GRAPHICS = `-- strata:up
CREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);
INSERT INTO graphics (id, title) VALUES (1, 'launch'), (2, 'keynote'), (3, 'closing');
-- strata:down
DROP TABLE graphics;
`
const EVENT = `-- strata:up
ALTER TABLE graphics ADD COLUMN event_name varchar(80);
CREATE INDEX idx_graphics_event ON graphics (event_name);
-- strata:down
DROP INDEX idx_graphics_event;
ALTER TABLE graphics DROP COLUMN event_name;
`

interface Rehearsal { ok: boolean; runId: string; rollbackTested: boolean; regressions: Array<{ name: string; beforeMs: number; afterMs: number }>; differences: string[] }
interface RecordJson { runId: string; rehearsal?: boolean; success: boolean; estimatedDurationMs: number | null; steps: Array<{ revision: string; durationMs: number | null }>; rollback: { tested: boolean } }

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

describe('strata rehearse (SQLite)', () => {
  const project = useProject()
  const config = (policy = '{}', extra = ''): void => writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations
environments:
  production: { url: "sqlite:prod.db", policy: ${policy} }
  staging: { url: "sqlite:staging.db" }
rehearsal:
  queries: [ { name: count, sql: "SELECT count(*) FROM graphics" } ]
${extra}`)
  const prodSetup = (): void => {
    config()
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up', '--env', 'production'], project.dir).code).toBe(0)
    project.write('002_event.sql', EVENT)
  }
  const record = (runId: string): RecordJson => JSON.parse(readFileSync(join(project.dir, 'records', `${runId}.json`), 'utf8')) as RecordJson

  it('copies production into staging, migrates it, tests the rollback, migrates it again; production is only read', () => {
    prodSetup()
    const prod = join(project.dir, 'prod.db')
    const before = sha(prod)
    const run = strata(['rehearse', '--json'], project.dir)
    expect(run.code, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as Rehearsal
    expect(result).toMatchObject({ ok: true, rollbackTested: true, regressions: [], differences: [] })
    expect(sha(prod)).toBe(before)
    expect(rows(prod, "SELECT name FROM pragma_table_info('graphics') ORDER BY cid")).toEqual([{ name: 'id' }, { name: 'title' }])
    const staging = join(project.dir, 'staging.db')
    expect(rows(staging, "SELECT name FROM pragma_table_info('graphics') ORDER BY cid")).toEqual([{ name: 'id' }, { name: 'title' }, { name: 'event_name' }])
    expect(rows(staging, 'SELECT count(*) AS n FROM graphics')).toEqual([{ n: 3 }])
    const rehearsal = record(result.runId)
    expect(rehearsal).toMatchObject({ rehearsal: true, success: true, rollback: { tested: true } })
    expect(rehearsal.steps.map((s) => s.revision)).toEqual(['002_event'])
    const listed = JSON.parse(strata(['record', 'list', '--json', '--env', 'staging'], project.dir).stdout) as { records: Array<{ runId: string; rehearsal: boolean }> }
    expect(listed.records.find((r) => r.runId === result.runId)?.rehearsal).toBe(true)
  })

  it('require_rehearsal: refused without one, after an edit, and when too old; a fresh one lets production run with its durations as the estimate', () => {
    prodSetup()
    config('{ require_rehearsal: true }')
    let refused = strata(['up', '--env', 'production'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('require_rehearsal')
    expect(refused.stderr).toContain('strata rehearse --from production --to staging')
    const result = JSON.parse(strata(['rehearse', '--json'], project.dir).stdout) as Rehearsal
    expect(result.ok).toBe(true)
    // An edit after the rehearsal voids it.
    project.write('002_event.sql', EVENT.replace('varchar(80)', 'varchar(90)'))
    refused = strata(['up', '--env', 'production'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('002_event changed since rehearsed')
    project.write('002_event.sql', EVENT)
    // Too old.
    config('{ require_rehearsal: true, rehearsal_max_age: 1ms }')
    refused = strata(['up', '--env', 'production'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('older than 1ms')
    config('{ require_rehearsal: true }')
    const up = strata(['up', '--env', 'production', '--json'], project.dir)
    expect(up.code, up.stderr).toBe(0)
    const runId = (JSON.parse(up.stdout) as { runId: string }).runId
    expect(record(runId).estimatedDurationMs).toBe(record(result.runId).steps[0]!.durationMs)
    expect(rows(join(project.dir, 'prod.db'), "SELECT name FROM pragma_table_info('graphics') WHERE name = 'event_name'")).toEqual([{ name: 'event_name' }])
    // A rollback is what the rehearsal tested: require_rehearsal never stands in its way.
    expect(strata(['down', '001_graphics', '--env', 'production'], project.dir).code).toBe(0)
  })

  it('a down that does not give the data back fails the rollback test (exit 1), naming the table', () => {
    prodSetup()
    project.write('002_event.sql', "-- strata:up\nUPDATE graphics SET title = upper(title);\n-- strata:down\nSELECT 1;\n")
    const run = strata(['rehearse', '--json'], project.dir)
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as Rehearsal
    expect(result).toMatchObject({ ok: false, rollbackTested: false })
    expect(result.differences).toEqual(['the rows of graphics differ from the copy'])
    expect(record(result.runId).success).toBe(false)
  })

  it('flags a benchmark query that the migration made slower', () => {
    config('{}', '')
    writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations
environments:
  production: { url: "sqlite:prod.db" }
  staging: { url: "sqlite:staging.db" }
rehearsal:
  queries: [ { name: lookup, sql: "SELECT count(*) FROM big WHERE k = 4242" } ]
  regression_factor: 2
`)
    project.write('001_big.sql', `-- strata:up
CREATE TABLE big (id integer PRIMARY KEY, k integer NOT NULL, pad text);
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 300000) INSERT INTO big (id, k, pad) SELECT i, i % 50000, 'x' FROM seq;
CREATE INDEX idx_big_k ON big (k);
-- strata:down
DROP TABLE big;
`)
    expect(strata(['up', '--env', 'production'], project.dir).code).toBe(0)
    project.write('002_drop_index.sql', '-- strata:up\nDROP INDEX idx_big_k;\n-- strata:down\nCREATE INDEX idx_big_k ON big (k);\n')
    const run = strata(['rehearse', '--json'], project.dir)
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as Rehearsal
    expect(result.rollbackTested).toBe(true)
    expect(result.regressions.map((r) => r.name)).toEqual(['lookup'])
    expect(result.regressions[0]!.afterMs).toBeGreaterThan(result.regressions[0]!.beforeMs * 2)
  })

  it('refuses a rehearsal onto the source itself, and one without a config', () => {
    prodSetup()
    const same = strata(['rehearse', '--from', 'production', '--to', 'production'], project.dir)
    expect(same.code).toBe(2)
    expect(same.stderr).toContain('both environments are the same database')
    const noConfig = strata(['rehearse', '--url', 'sqlite:prod.db'], project.dir)
    expect(noConfig.code).toBe(2)
  })
})

describe('strata rehearse (PostgreSQL)', () => {
  const project = useProject()
  const SERVER = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
  const names = { prod: '', staging: '' }
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: SERVER })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  const urlOf = (db: string): string => SERVER.replace(/\/[^/]*$/, `/${db}`)
  const query = async <T>(db: string, sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: urlOf(db) })
    await client.connect()
    try {
      return (await client.query(sql)).rows as T[]
    } finally {
      await client.end()
    }
  }
  beforeEach(async () => {
    const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    names.prod = `strata_r_${id}_prod`
    names.staging = `strata_r_${id}_staging`
    await admin(`CREATE DATABASE ${names.prod}`)
    await admin(`CREATE DATABASE ${names.staging}`)
  })
  afterEach(async () => {
    await admin(`DROP DATABASE IF EXISTS ${names.prod} WITH (FORCE)`)
    await admin(`DROP DATABASE IF EXISTS ${names.staging} WITH (FORCE)`)
  })

  it('copies production into staging with pg_dump and pg_restore, migrates, tests the rollback; production untouched', async () => {
    writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations
environments:
  production: { url: "${urlOf(names.prod)}" }
  staging: { url: "${urlOf(names.staging)}" }
rehearsal:
  queries: [ { name: count, sql: "SELECT count(*) FROM graphics" } ]
`)
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up', '--env', 'production'], project.dir).code).toBe(0)
    project.write('002_event.sql', EVENT)
    const run = strata(['rehearse', '--json'], project.dir)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, rollbackTested: true, regressions: [] })
    const columns = async (db: string): Promise<string[]> => (await query<{ c: string }>(db, "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'graphics' ORDER BY ordinal_position")).map((r) => r.c)
    expect(await columns(names.prod)).toEqual(['id', 'title'])
    expect(await columns(names.staging)).toEqual(['id', 'title', 'event_name'])
    expect(await query(names.staging, 'SELECT id, title FROM graphics ORDER BY id')).toEqual([{ id: 1, title: 'launch' }, { id: 2, title: 'keynote' }, { id: 3, title: 'closing' }])
    const prodRuns = await query<{ command: string }>(names.prod, 'SELECT command FROM strata_runs ORDER BY started_at')
    expect(prodRuns.map((r) => r.command)).toEqual(['up'])
  })
})

describe('strata rehearse (MariaDB)', () => {
  const project = useProject()
  const SERVER = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'
  const names = { prod: '', staging: '' }
  const urlOf = (db: string): string => SERVER.replace(/\/[^/]*$/, `/${db}`)
  const run = async <T>(sql: string): Promise<T[]> => {
    const { default: client } = await import('mysql2/promise')
    const conn = await client.createConnection({ uri: SERVER })
    try {
      const [result] = await conn.query(sql)
      return (Array.isArray(result) ? result : []) as T[]
    } finally {
      await conn.end()
    }
  }
  beforeEach(async () => {
    const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    names.prod = `strata_r_${id}_prod`
    names.staging = `strata_r_${id}_staging`
    await run(`CREATE DATABASE \`${names.prod}\``)
    await run(`CREATE DATABASE \`${names.staging}\``)
  })
  afterEach(async () => {
    await run(`DROP DATABASE IF EXISTS \`${names.prod}\``)
    await run(`DROP DATABASE IF EXISTS \`${names.staging}\``)
  })

  it('copies production into staging with mysqldump and mysql, migrates, tests the rollback; production untouched', async () => {
    writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations
environments:
  production: { url: "${urlOf(names.prod)}" }
  staging: { url: "${urlOf(names.staging)}" }
`)
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up', '--env', 'production'], project.dir).code).toBe(0)
    project.write('002_event.sql', EVENT.replace('CREATE INDEX idx_graphics_event ON graphics (event_name);\n', '').replace('DROP INDEX idx_graphics_event;\n', ''))
    const result = strata(['rehearse', '--json'], project.dir)
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, rollbackTested: true })
    const columns = async (db: string): Promise<string[]> => (await run<{ c: string }>(`SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${db}' AND TABLE_NAME = 'graphics' ORDER BY ORDINAL_POSITION`)).map((r) => r.c)
    expect(await columns(names.prod)).toEqual(['id', 'title'])
    expect(await columns(names.staging)).toEqual(['id', 'title', 'event_name'])
  })
})
