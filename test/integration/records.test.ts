import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata } from '../support/cli.js'
import { useProject } from '../support/cli.js'
import { DIALECT, useTestDatabase, type TestDatabase } from '../support/dialects.js'
import { rows } from '../support/sqlite.js'

/** The SOP's flagship example: the dashboard's graphics table, then its event name. */
const CREATE = '-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics (id, title) VALUES (1, \'launch\');\n-- strata:down\nDROP TABLE graphics;\n'
const EVENT = '-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(80);\nCREATE INDEX idx_graphics_event ON graphics (event_name);\n-- strata:down\nDROP INDEX idx_graphics_event;\nALTER TABLE graphics DROP COLUMN event_name;\n'

const SPEC_KEYS = ['runId', 'migrationIds', 'date', 'author', 'description', 'databaseType', 'migrationType', 'environment', 'affectedTables', 'estimatedDurationMs',
  'downtimeRequired', 'executionTime', 'durationMs', 'success', 'issues', 'validationResults', 'rollback', 'backupId', 'changeRequest']

interface RecordJson {
  runId: string
  migrationIds: string[]
  success: boolean
  status: string
  issues: string[]
  affectedTables: string[]
  estimatedDurationMs: number | null
  rollback: { available: boolean; tested: boolean; timeMs: number | null }
  validationResults: { schema: string; data: string; application: string }
  steps: Array<{ revision: string; durationMs: number | null; status: string }>
  [key: string]: unknown
}

function config(dir: string, extra = ''): void {
  writeFileSync(join(dir, 'strata.yaml'), `migrations: migrations\nenvironments:\n  development: { url: "sqlite:app.db" }\n${extra}`)
}

function records(dir: string): RecordJson[] {
  const folder = join(dir, 'records')
  if (!existsSync(folder)) return []
  return readdirSync(folder).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(folder, f), 'utf8')) as RecordJson)
    .sort((a, b) => String(a['executionTime']).localeCompare(String(b['executionTime'])))
}

describe('migration records (SQLite)', () => {
  const project = useProject()

  it('every up writes records/<run>.md and .json with every field of the SOP record; strata_runs points at it', () => {
    config(project.dir)
    project.write('001_add_graphics.sql', CREATE)
    project.write('002_add_event_name_to_graphics.sql', EVENT)
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(0)
    const [record] = records(project.dir)
    expect(record).toBeDefined()
    for (const key of SPEC_KEYS) expect(record, key).toHaveProperty(key)
    expect(record!.migrationIds).toEqual(['001_add_graphics', '002_add_event_name_to_graphics'])
    expect(record).toMatchObject({
      success: true, status: 'succeeded', databaseType: 'SQLite', migrationType: 'schema', environment: 'development',
      affectedTables: ['graphics'], estimatedDurationMs: null, changeRequest: null, backupId: null, issues: [],
      rollback: { available: true, tested: false, timeMs: null },
    })
    expect(record!.validationResults).toMatchObject({ schema: 'passed', data: 'passed', application: 'none configured' })
    const markdown = readFileSync(join(project.dir, 'records', `${record!.runId}.md`), 'utf8')
    expect(markdown.match(/^## .+$/gm)?.slice(0, 5)).toEqual(['## Migration Details', '## Technical Details', '## Execution Details', '## Validation Results', '## Rollback Information'])
    expect(markdown).toContain('- **Affected Tables**: graphics')
    const [row] = rows<{ record_path: string; run_id: string }>(join(project.dir, 'app.db'), "SELECT run_id, record_path FROM strata_runs WHERE command = 'up'")
    expect(row).toEqual({ run_id: record!.runId, record_path: join(project.dir, 'records', `${record!.runId}.json`) })

    // record list / show, as text and JSON.
    const list = strata(['record', 'list', '--json'], project.dir)
    expect(list.code).toBe(0)
    expect((JSON.parse(list.stdout) as { records: Array<{ runId: string; status: string }> }).records).toMatchObject([{ runId: record!.runId, status: 'succeeded' }])
    const shown = strata(['record', 'show', record!.runId.slice(0, 18)], project.dir)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toBe(markdown)
    const json = strata(['record', 'show', record!.runId, '--json'], project.dir)
    expect(JSON.parse(json.stdout)).toEqual(record)
    const unknown = strata(['record', 'show', 'nope'], project.dir)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no migration record of run `nope`')
  })

  it('a failed run and a refused run write their records too: success false, the error among the issues, the rollback timed', () => {
    config(project.dir)
    project.write('001_add_graphics.sql', CREATE)
    project.write('002_bad.sql', '-- strata:up\nCREATE TABLE more (id integer);\nINSERT INTO missing_table VALUES (1);\n-- strata:down\nDROP TABLE more;\n')
    expect(strata(['up'], project.dir).code).toBe(1)
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments:\n  development: { url: "sqlite:app.db", policy: { confirm: true } }\n')
    expect(strata(['up'], project.dir).code).toBe(3)
    const [failed, refused] = records(project.dir)
    expect(failed).toMatchObject({ success: false, migrationIds: ['001_add_graphics', '002_bad'] })
    expect(failed!.issues.join('\n')).toContain('missing_table')
    expect(refused).toMatchObject({ success: false, status: 'refused', migrationIds: ['001_add_graphics', '002_bad'] })
    expect(refused!.issues.join('\n')).toContain('E_POLICY')
    expect(refused!.steps.map((s) => s.status)).toEqual(['pending', 'pending'])
  })

  it('a run rolled back by on_failure records the rollback as tested, with its time', () => {
    config(project.dir)
    project.write('001_add_graphics.sql', CREATE)
    project.write('002_bad.sql', '-- strata:up\nINSERT INTO missing_table VALUES (1);\n-- strata:down\nSELECT 1;\n')
    expect(strata(['up'], project.dir).code).toBe(1)
    const [record] = records(project.dir)
    // 001 was committed, 002 failed in its transaction: 001 was reverted by its down.
    expect(record).toMatchObject({ status: 'rolled-back', success: false })
    expect(record!.rollback.tested).toBe(true)
    expect(record!.rollback.timeMs).toBeGreaterThanOrEqual(0)
    expect(rows(join(project.dir, 'app.db'), "SELECT name FROM sqlite_master WHERE name = 'graphics'")).toEqual([])
  })

  it('a later run of the same migrations takes its estimate from the earlier record', () => {
    config(project.dir)
    project.write('001_add_graphics.sql', CREATE)
    project.write('002_add_event_name_to_graphics.sql', EVENT)
    expect(strata(['up'], project.dir).code).toBe(0)
    expect(strata(['down', 'base'], project.dir).code).toBe(0)
    expect(strata(['up'], project.dir).code).toBe(0)
    const [first, down, again] = records(project.dir)
    expect(down!.estimatedDurationMs).toBeNull()
    expect(again!.estimatedDurationMs).toBe(first!.steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0))
    // An edited migration has no estimate: its checksum is another.
    expect(strata(['down', 'base'], project.dir).code).toBe(0)
    project.write('002_add_event_name_to_graphics.sql', EVENT.replace('varchar(80)', 'varchar(100)'))
    expect(strata(['up'], project.dir).code).toBe(0)
    expect(records(project.dir).at(-1)!.estimatedDurationMs).toBeNull()
  })

  it('a run that overruns its estimate raises long_running, naming the estimate', () => {
    config(project.dir, 'alerts:\n  warning: [long_running]\n  sinks: [{ type: file, path: alerts.jsonl }]\n')
    project.write('001_wait.ts', `export default {
  async up(op) { await new Promise((r) => setTimeout(r, Number(process.env.WAIT_MS))); op.execute('CREATE TABLE waited (id integer)') },
  down(op) { op.execute('DROP TABLE waited') },
}
`)
    expect(strata(['up'], project.dir, { WAIT_MS: '20' }).code).toBe(0)
    expect(strata(['down', 'base'], project.dir, { WAIT_MS: '0' }).code).toBe(0)
    expect(existsSync(join(project.dir, 'alerts.jsonl'))).toBe(false)
    expect(strata(['up'], project.dir, { WAIT_MS: '1800' }).code).toBe(0)
    const alerts = readFileSync(join(project.dir, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: string; runId: string })
    expect(alerts.map((a) => a.event)).toEqual(['long_running'])
    expect(alerts[0]!.message).toMatch(/over its estimate of \d+(\.\d)? s/)
    expect(alerts[0]!.runId).toBe(records(project.dir).at(-1)!.runId)
  })

  it('without a config file the record lives in strata_runs, and record show renders it from there', () => {
    project.write('001_add_graphics.sql', CREATE)
    const URL = ['--url', 'sqlite:app.db', '--migrations', 'migrations']
    expect(strata(['up', ...URL], project.dir).code).toBe(0)
    expect(existsSync(join(project.dir, 'records'))).toBe(false)
    const list = JSON.parse(strata(['record', 'list', '--json', ...URL], project.dir).stdout) as { records: Array<{ runId: string; environment: string | null }> }
    expect(list.records).toHaveLength(1)
    expect(list.records[0]!.environment).toBeNull()
    const shown = strata(['record', 'show', list.records[0]!.runId, ...URL], project.dir)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('- **Environment**: none (no config file)')
    expect(shown.stdout).toContain('- **Affected Tables**: graphics')
  })
})

describe('migration records (PostgreSQL)', () => {
  const project = useProject()
  let db: TestDatabase
  useTestDatabase(DIALECT.postgres, project, (created) => (db = created))

  it('never holds the password of the database URL, in the files or in strata_runs, even when the run fails', async () => {
    const url = db.url.replace('postgres://postgres@', 'postgres://postgres:Sup3rSecretPw@')
    expect(url).toContain('Sup3rSecretPw')
    writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations\nenvironments:\n  production: { url: "${url}" }\n`)
    project.write('001_add_graphics.sql', CREATE)
    expect(strata(['up'], project.dir).code).toBe(0)
    project.write('002_bad.sql', `-- strata:up\nSELECT * FROM missing_table WHERE note = 'postgres://postgres:Sup3rSecretPw@127.0.0.1/x';\n`)
    expect(strata(['up'], project.dir).code).toBe(1)
    const files = readdirSync(join(project.dir, 'records'))
    expect(files).toHaveLength(4)
    for (const file of files) expect(readFileSync(join(project.dir, 'records', file), 'utf8')).not.toContain('Sup3rSecretPw')
    const runs = await db.rows<{ report: string | null; error: string | null }>('SELECT report, error FROM strata_runs')
    expect(JSON.stringify(runs)).not.toContain('Sup3rSecretPw')
    const [first, failed] = records(project.dir)
    expect(first).toMatchObject({ databaseType: 'PostgreSQL', success: true, affectedTables: ['graphics'] })
    expect(failed).toMatchObject({ success: false, migrationIds: ['002_bad'] })
  })
})
