import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { URL_ARGS, strata, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

const ARGS = URL_ARGS

function sql(name: string, header: string): string {
  return `${header}-- strata:up\nCREATE TABLE t_${name} (id INTEGER);\n-- strata:down\nDROP TABLE t_${name};\n`
}

describe('CLI contract', () => {
  const project = useProject()
  const write = project.write

  it('an unknown config key is E_CONFIG (exit 2) naming it and the closest known key', () => {
    writeFileSync(join(project.dir, 'strata.yaml'), 'migration: migrations\nenvironments:\n  development: { url: "sqlite:app.db" }\n')
    const run = strata(['status'], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error[E_CONFIG]')
    expect(run.stderr).toContain('unknown key `migration`')
    expect(run.stderr).toContain('did you mean `migrations`?')
  })

  it('a missing ${VAR} in the selected environment is E_CONFIG naming it', () => {
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  development: { url: "sqlite:app.db" }\n  production: { url: "${PROD_DB_URL}" }\n')
    expect(strata(['status'], project.dir).code).toBe(0)
    const run = strata(['status', '--env', 'production'], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('PROD_DB_URL')
  })

  it('errors print no stack trace unless --debug', () => {
    write('001_a.sql', sql('a', '-- strata:down-revision 002_b\n'))
    write('002_b.sql', sql('b', '-- strata:down-revision 001_a\n'))
    const plain = strata(['up', ...ARGS], project.dir)
    expect(plain.code).toBe(2)
    expect(plain.stderr).toContain('error[E_GRAPH_CYCLE]')
    expect(plain.stderr).toContain('001_a.sql')
    expect(plain.stderr).toContain('002_b.sql')
    expect(plain.stderr).toContain('hint:')
    expect(plain.stderr).not.toMatch(/\n\s+at /)
    const debug = strata(['up', '--debug', ...ARGS], project.dir)
    expect(debug.stderr).toMatch(/\n\s+at /)
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
  })

  it('bad graphs exit 2 naming the files and touch nothing', () => {
    write('001_a.sql', sql('a', ''))
    write('002_b.sql', sql('b', '-- strata:down-revision 000_gone\n'))
    const missing = strata(['up', ...ARGS], project.dir)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('E_GRAPH_MISSING_PARENT')
    expect(missing.stderr).toContain('002_b.sql')
    write('002_b.sql', sql('b', '-- strata:revision 001_a\n'))
    const duplicate = strata(['up', ...ARGS], project.dir)
    expect(duplicate.code).toBe(2)
    expect(duplicate.stderr).toContain('E_GRAPH_DUPLICATE')
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
  })

  it('several heads: `up head` is E_MULTIPLE_HEADS (exit 2); `up heads` applies both branches; a merge joins them', () => {
    write('001_root.sql', sql('root', ''))
    write('002_left.sql', sql('left', '-- strata:down-revision 001_root\n-- strata:branch-labels left\n'))
    write('003_right.sql', sql('right', '-- strata:down-revision 001_root\n'))
    const head = strata(['up', 'head', ...ARGS], project.dir)
    expect(head.code).toBe(2)
    expect(head.stderr).toContain('E_MULTIPLE_HEADS')
    expect(head.stderr).toContain('002_left')
    expect(head.stderr).toContain('003_right')
    expect(strata(['up', 'left@head', ...ARGS], project.dir).code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([{ revision: '001_root' }, { revision: '002_left' }])
    expect(strata(['up', 'heads', ...ARGS], project.dir).code).toBe(0)
    write('004_merge.sql', sql('merge', '-- strata:down-revision 002_left, 003_right\n'))
    expect(strata(['up', 'head', ...ARGS], project.dir).code).toBe(0)
    const status = JSON.parse(strata(['status', '--json', ...ARGS], project.dir).stdout) as { current: string[]; heads: string[] }
    expect(status.current).toEqual(['004_merge'])
    expect(status.heads).toEqual(['004_merge'])
    const down = strata(['down', '-1', ...ARGS], project.dir)
    expect(down.code).toBe(0)
    const after = JSON.parse(strata(['status', '--json', ...ARGS], project.dir).stdout) as { current: string[] }
    expect(after.current).toEqual(['002_left', '003_right'])
  })

  it('relative and prefix targets: -1 is a target, not a flag; unknown and ambiguous ones exit 2', () => {
    write('001_alpha.sql', sql('alpha', ''))
    write('002_beta.sql', sql('beta', ''))
    write('003_bravo.sql', sql('bravo', ''))
    expect(strata(['up', '+2', ...ARGS], project.dir).code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 2 }])
    expect(strata([...ARGS, 'down', '-1'], project.dir).code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_alpha' }])
    const far = strata(['down', '-5', ...ARGS], project.dir)
    expect(far.code).toBe(2)
    expect(far.stderr).toContain('E_UNKNOWN_REVISION')
    const ambiguous = strata(['up', '00', ...ARGS], project.dir)
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toContain('E_AMBIGUOUS_REVISION')
    expect(strata(['up', '003', ...ARGS], project.dir).code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT count(*) AS n FROM strata_history')).toEqual([{ n: 3 }])
  })

  it('stamp adopts an existing database without running anything, and is logged', () => {
    write('001_a.sql', sql('a', ''))
    write('002_b.sql', sql('b', ''))
    const run = strata(['stamp', '001_a', ...ARGS], project.dir)
    expect(run.code).toBe(0)
    const db = join(project.dir, 'app.db')
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name LIKE 't_%'")).toEqual([])
    expect(rows(db, 'SELECT revision, action FROM strata_log')).toEqual([{ revision: '001_a', action: 'stamp' }])
    expect(strata(['up', ...ARGS], project.dir).code).toBe(0)
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name LIKE 't_%'")).toEqual([{ name: 't_b' }])
  })

  it('an unreachable database is E_CONNECT with exit 1', () => {
    write('001_a.sql', sql('a', ''))
    const run = strata(['status', '--url', 'sqlite:/nonexistent-project.dir/sub/app.db', '--migrations', 'migrations'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('E_CONNECT')
  })

  it('plan lists the ops each pending migration would run', () => {
    write('001_a.ts', "export default { up(op) { op.createTable('a', [{ name: 'id', type: 'integer' }]); op.createIndex('ia', 'a', ['id']) }, down(op) { op.dropTable('a') } }\n")
    const plan = strata(['plan', '--json', ...ARGS], project.dir)
    expect(plan.code).toBe(0)
    const doc = JSON.parse(plan.stdout) as { steps: Array<{ revision: string; ops: string[] }> }
    expect(doc.steps).toEqual([expect.objectContaining({ revision: '001_a', ops: ['create table a', 'create index ia on a'] })])
  })

  it('policy confirm: refused (exit 3) without a terminal or --yes, recorded; --yes runs', () => {
    write('001_a.sql', sql('a', ''))
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  production:\n    url: "sqlite:app.db"\n    policy: { confirm: true }\n')
    const refused = strata(['up'], project.dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('error[E_POLICY]')
    expect(refused.stderr).toContain('--yes')
    const db = join(project.dir, 'app.db')
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name = 't_a'")).toEqual([])
    expect(rows(db, 'SELECT command, status FROM strata_runs')).toEqual([{ command: 'up', status: 'refused' }])
    expect(strata(['up', '--yes'], project.dir).code).toBe(0)
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name = 't_a'")).toEqual([{ name: 't_a' }])
  })

  it('require_rehearsal refuses a run nothing rehearsed (exit 3), recorded, nothing touched', () => {
    write('001_a.sql', sql('a', ''))
    writeFileSync(join(project.dir, 'strata.yaml'), 'environments:\n  production:\n    url: "sqlite:app.db"\n    policy: { require_rehearsal: true }\n')
    const run = strata(['up', '--yes'], project.dir)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('error[E_POLICY]')
    expect(run.stderr).toContain('require_rehearsal')
    expect(run.stderr).toContain('no passing rehearsal covers 001_a')
    const db = join(project.dir, 'app.db')
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name = 't_a'")).toEqual([])
    expect(rows(db, 'SELECT command, status FROM strata_runs')).toEqual([{ command: 'up', status: 'refused' }])
  })

  it('a failed run says which state the database is in', () => {
    write('001_a.sql', sql('a', ''))
    write('002_bad.sql', '-- strata:up\nSELECT * FROM nowhere;\n')
    const run = strata(['up', ...ARGS], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('database: as it was before this run')
  })
})
