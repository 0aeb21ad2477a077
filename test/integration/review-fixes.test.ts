import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI, URL_ARGS, strata, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

// The built package entry, as users import it (catches bundling and export mistakes); typed from src.
const { Strata } = (await import('../../dist/index.js' as string)) as typeof import('../../src/index.js')

const TABLE = (name: string, down = true): string =>
  `-- strata:up\nCREATE TABLE ${name} (id INTEGER);\n${down ? `-- strata:down\nDROP TABLE ${name};\n` : ''}`

describe('read-only commands and output streams', () => {
  const project = useProject()

  it('status, history and plan never create the database file', () => {
    project.write('001_a.sql', TABLE('a'))
    const status = strata(['status', '--json', ...URL_ARGS], project.dir)
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout).pending).toEqual(['001_a'])
    expect(strata(['history', ...URL_ARGS], project.dir).code).toBe(0)
    expect(strata(['plan', ...URL_ARGS], project.dir).code).toBe(0)
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
    expect(strata(['status', ...URL_ARGS], project.dir).stderr).toContain('does not exist yet')
  })

  it('a reader that stops early is not an error', () => {
    project.write('001_a.sql', TABLE('a'))
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    const piped = spawnSync('sh', ['-c', `node ${CLI} status ${URL_ARGS.join(' ')} | head -c 1`], { cwd: project.dir, encoding: 'utf8' })
    expect(piped.stderr).not.toContain('EPIPE')
  })

  it('usage errors carry E_USAGE, as JSON with --json', () => {
    const run = strata(['down', '--json', ...URL_ARGS], project.dir)
    expect(run.code).toBe(2)
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'E_USAGE' } })
    expect(strata(['frobnicate'], project.dir).stderr).toContain('error[E_USAGE]')
  })

  it('--progress json makes stderr NDJSON only', () => {
    project.write('001_a.sql', TABLE('a'))
    project.write('002_bad.sql', '-- strata:up\nSELECT * FROM nowhere;\n')
    const run = strata(['up', '--progress', 'json', ...URL_ARGS], project.dir)
    expect(run.code).toBe(1)
    const lines = run.stderr.trim().split('\n')
    const events = lines.map((line) => JSON.parse(line) as { type: string; message?: string })
    expect(events.map((e) => e.type)).toContain('migration:done')
    expect(events.find((e) => e.type === 'log' && e.message?.includes('E_MIGRATION_FAILED'))).toBeDefined()
  })

  it('STRATA_DATABASE_URL, like --url, resolves a relative path from the working directory', () => {
    mkdirSync(join(project.dir, 'conf'))
    writeFileSync(join(project.dir, 'conf', 'strata.yaml'), 'migrations: ../migrations\nenvironments:\n  development: { url: "sqlite:conf.db" }\n')
    project.write('001_a.sql', TABLE('a'))
    const run = strata(['up', '--config', 'conf/strata.yaml'], project.dir, { STRATA_DATABASE_URL: 'sqlite:here.db' })
    expect(run.code).toBe(0)
    expect(existsSync(join(project.dir, 'here.db'))).toBe(true)
  })
})

describe('runs that end badly say so', () => {
  const project = useProject()

  it('a failed rollback names its cause and leaves the state partial', () => {
    project.write('001_keep.sql', TABLE('keep', false))
    project.write('002_bad.sql', '-- strata:up\nSELECT * FROM nowhere;\n')
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('rollback failed: 001_keep')
    expect(run.stderr).toContain('database: the migrations before the failing one stay applied')
  })

  it('a foreign key violation is refused before commit, naming the migration', () => {
    project.write('001_schema.sql', '-- strata:up\nCREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);\nINSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (1, 1);\n-- strata:down\nDROP TABLE child;\nDROP TABLE parent;\n')
    expect(strata(['up', ...URL_ARGS], project.dir).code).toBe(0)
    project.write('002_orphans.sql', '-- strata:up\nINSERT INTO child VALUES (2, 99);\n-- strata:down\nDELETE FROM child WHERE id = 2;\n')
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('migration 002_orphans')
    expect(run.stderr).toContain('foreign key check failed')
    expect(rows(join(project.dir, 'app.db'), 'SELECT id, parent_id FROM child')).toEqual([{ id: 1, parent_id: 1 }])
  })

  it('createIndex with concurrently is refused in a transactional migration', () => {
    project.write('001_t.sql', TABLE('t'))
    project.write('002_ix.ts', "export default { up(op) { op.createIndex('ix', 't', ['id'], { concurrently: true }) }, down(op) { op.dropIndex('ix') } }\n")
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('transactional: false')
  })
})

describe('authoring mistakes are named', () => {
  const project = useProject()

  it('an unknown option in a TypeScript migration is refused with the closest one', () => {
    project.write('001_a.ts', "export default { downRevison: null, up(op) { op.execute('SELECT 1') } }\n")
    const run = strata(['up', ...URL_ARGS], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown option `downRevison`')
    expect(run.stderr).toContain('did you mean `downRevision`?')
  })

  it('new refuses a name that would not sort last', () => {
    project.write('alpha.sql', TABLE('alpha'))
    const run = strata(['new', 'next', ...URL_ARGS], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('would sort before alpha')
  })

  it('an unknown key inside a list of checks is named', () => {
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development: { url: "sqlite:app.db" }\nchecks:\n  preflight: [ { name: x, sqll: "SELECT 1", expect: 1 } ]\n')
    const run = strata(['status'], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('sqll`')
    expect(run.stderr).toContain('did you mean `sql`?')
  })

  it('several environments and no default: the message says how to choose', () => {
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  staging: { url: "sqlite:s.db" }\n  production: { url: "sqlite:p.db" }\n')
    const run = strata(['status'], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('no environment selected')
    expect(run.stderr).toContain('--env')
  })

  it('the API opens from a config object', async () => {
    project.write('001_a.sql', TABLE('a'))
    const strata = await Strata.open({ cwd: project.dir, config: { migrations: 'migrations', environments: { development: { url: 'sqlite:obj.db' } } } })
    await strata.up()
    expect(rows(join(project.dir, 'obj.db'), 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_a' }])
    await expect(Strata.open({ cwd: project.dir, config: { environments: { development: { url: 'sqlite:x.db', plicy: {} } } } as never })).rejects.toMatchObject({ code: 'E_CONFIG' })
  })
})
