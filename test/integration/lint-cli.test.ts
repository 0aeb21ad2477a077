import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, strata, useProject } from '../support/cli.js'

/** A PostgreSQL URL nothing listens on: lint must never try it. */
const NOWHERE = 'postgres://nobody@127.0.0.1:1/x'

const USERS = '-- strata:up\nCREATE TABLE users (id integer PRIMARY KEY, name text, email text);\n-- strata:down\nDROP TABLE users;\n'
/** A warning (rename-breaks-app) and nothing else. */
const RENAME = '-- strata:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n-- strata:down\nALTER TABLE users RENAME COLUMN full_name TO name;\n'
/** An error (drop-column) in the up. */
const DROP = '-- strata:up\nALTER TABLE users DROP COLUMN email;\n-- strata:down\nALTER TABLE users ADD COLUMN email text;\n'

interface JsonFinding {
  rule: string
  severity: string
  revision: string
  file: string
  line: number | null
  message: string
}

describe('strata lint', () => {
  const project = useProject()

  function lint(...args: string[]): ReturnType<typeof strata> {
    return strata(['lint', '--url', NOWHERE, '--migrations', 'migrations', ...args], project.dir)
  }

  it('needs no database: lints against an unreachable PostgreSQL URL and creates nothing', () => {
    project.write('001_users.sql', USERS)
    project.write('002_rename.sql', RENAME)
    const run = lint()
    expect(run.stderr).not.toContain('error[')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('migrations/002_rename.sql:2  warning  rename-breaks-app  renames column `users.name` to `full_name`')
    expect(run.stdout).toContain('migrations/001_users.sql:4  info  drop-table  down: drops table `users`')
    expect(run.stdout).toContain('migrations/002_rename.sql:4  warning  rename-breaks-app  down: renames column `users.full_name` to `name`')
    expect(run.stderr).toContain('lint: 3 finding(s): 2 warnings, 1 info (none at or above error: passed)')

    const sqlite = strata(['lint', '--url', 'sqlite:app.db', '--migrations', 'migrations'], project.dir)
    expect(sqlite.code).toBe(0)
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
  })

  it('exit codes follow --fail-on (default error)', () => {
    project.write('001_users.sql', USERS)
    project.write('002_rename.sql', RENAME)
    expect(lint().code).toBe(0)
    expect(lint('--fail-on', 'error').code).toBe(0)
    expect(lint('--fail-on', 'warning').code).toBe(1)
    expect(lint('--fail-on', 'info').code).toBe(1)

    project.write('003_drop.sql', DROP)
    const failed = lint()
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('(1 at or above error: failed)')

    const bad = lint('--fail-on', 'fatal')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('error[E_USAGE]')
  })

  it('--json prints exactly {"findings": [{rule, severity, revision, file, line, message}]}', () => {
    project.write('001_users.sql', USERS)
    project.write('002_drop.sql', DROP)
    project.write('003_ops.ts', `import { migration } from 'strata-migrate'
export default migration({
  async up(op) { op.renameTable('users', 'people') },
  async down(op) { op.renameTable('people', 'users') },
})
`)
    const run = lint('--json')
    expect(run.code).toBe(1)
    const parsed = JSON.parse(run.stdout) as { findings: JsonFinding[] }
    expect(Object.keys(parsed)).toEqual(['findings'])
    for (const finding of parsed.findings) expect(Object.keys(finding)).toEqual(['rule', 'severity', 'revision', 'file', 'line', 'message'])
    expect(parsed.findings.map((f) => [f.rule, f.severity, f.revision, f.file, f.line])).toEqual([
      ['drop-table', 'info', '001_users', 'migrations/001_users.sql', 4],
      ['drop-column', 'error', '002_drop', 'migrations/002_drop.sql', 2],
      ['rename-breaks-app', 'warning', '003_ops', 'migrations/003_ops.ts', null],
      ['rename-breaks-app', 'warning', '003_ops', 'migrations/003_ops.ts', null],
    ])
    expect(parsed.findings[2]?.message).toMatch(/^op #1 renameTable: renames table `users` to `people`/)
    expect(parsed.findings[3]?.message).toMatch(/^down: op #1 renameTable: renames table `people` to `users`/)

    mkdirSync(join(project.dir, 'empty'))
    const clean = strata(['lint', '--json', '--url', NOWHERE, '--migrations', 'empty'], project.dir)
    expect(clean.code).toBe(0)
    expect(JSON.parse(clean.stdout)).toEqual({ findings: [] })
  })

  it('REV… lints only those revisions; an unknown one is E_UNKNOWN_REVISION (exit 2)', () => {
    project.write('001_users.sql', USERS)
    project.write('002_rename.sql', RENAME)
    project.write('003_drop.sql', DROP)
    const only = lint('002_rename', '--json')
    expect(only.code).toBe(0)
    expect((JSON.parse(only.stdout) as { findings: JsonFinding[] }).findings.map((f) => `${f.rule} ${f.revision}:${f.line}`)).toEqual(['rename-breaks-app 002_rename:2', 'rename-breaks-app 002_rename:4'])

    const two = lint('002', '003', '--json')
    expect(two.code).toBe(1)
    expect((JSON.parse(two.stdout) as { findings: JsonFinding[] }).findings.map((f) => f.revision)).toEqual(['002_rename', '002_rename', '003_drop'])

    const unknown = lint('009_nope')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('error[E_UNKNOWN_REVISION]')
  })

  it('config lint.rules changes severities; an unknown rule id is E_CONFIG naming the closest', () => {
    project.write('001_users.sql', USERS)
    project.write('003_drop.sql', DROP)
    const config = (rules: string): void =>
      writeFileSync(join(project.dir, 'strata.yaml'), `environments:\n  development: { url: "${NOWHERE}" }\nlint: { rules: { ${rules} } }\n`)
    config('drop-column: warning, drop-table: off')
    const relaxed = strata(['lint', '--json'], project.dir)
    expect(relaxed.code).toBe(0)
    expect((JSON.parse(relaxed.stdout) as { findings: JsonFinding[] }).findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['drop-column warning'])

    config('drop-colunm: warning')
    const typo = strata(['lint'], project.dir)
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain('error[E_CONFIG]')
    expect(typo.stderr).toContain('did you mean `drop-column`?')
  })

  it('SQL the parser cannot read is an info finding, never a refusal', () => {
    project.write('001_users.sql', USERS)
    project.write('002_odd.sql', '-- strata:up\nALTER TABLE users RENAME name TO full_name;\n-- strata:down\nSELECT 1;\n')
    const run = strata(['lint', '--url', 'sqlite:app.db', '--migrations', 'migrations', '--fail-on', 'warning'], project.dir)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('migrations/002_odd.sql:2  info  unparsed  the SQLite parser cannot read this statement')
  })

  it('the parsers load only for lint, and only the engine\'s own', () => {
    project.write('001_users.sql', USERS)
    const script = `
      import { createRequire } from 'node:module'
      const { Strata } = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))})
      const strata = await Strata.open({ url: 'sqlite:app.db', migrations: 'migrations' })
      const loaded = () => Object.keys(createRequire(import.meta.url).cache)
      const parsers = () => ({
        pg: loaded().some((f) => f.includes('/node_modules/libpg-query/')),
        sqlite: loaded().some((f) => f.endsWith('/node-sql-parser/build/sqlite.js')),
        mysql: loaded().some((f) => /node-sql-parser\\/build\\/(mysql|mariadb)\\.js$/.test(f)),
      })
      await strata.status()
      const afterStatus = parsers()
      const findings = await strata.lint()
      console.log(JSON.stringify({ afterStatus, afterLint: parsers(), findings: findings.length }))`
    // A cache folder of its own: with the lint cache warm, no grammar would load at all.
    const env = { ...process.env, STRATA_CACHE_DIR: join(project.dir, 'cache') }
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project.dir, encoding: 'utf8', env })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({
      afterStatus: { pg: false, sqlite: false, mysql: false },
      afterLint: { pg: false, sqlite: true, mysql: false },
      findings: 1,
    })
  })

  it('a repeated lint reads its findings from the cache, and an edited migration is linted again', () => {
    const cache = join(project.dir, 'cache')
    project.write('001_users.sql', USERS)
    project.write('002_drop.sql', '-- strata:up\nALTER TABLE users DROP COLUMN email;\n-- strata:down\nSELECT 1;\n')
    const lint = (): { findings: Array<{ rule: string; severity: string }> } => JSON.parse(strata(['lint', '--json', '--url', 'sqlite:app.db', '--migrations', 'migrations'], project.dir, { STRATA_CACHE_DIR: cache }).stdout)
    const first = lint()
    const errors = (report: { findings: Array<{ rule: string; severity: string }> }): string[] => report.findings.filter((f) => f.severity === 'error').map((f) => f.rule)
    expect(errors(first)).toEqual(['drop-column'])
    expect(readdirSync(cache).some((f) => f.startsWith('lint-findings-sqlite-'))).toBe(true)
    expect(statSync(cache).mode & 0o777).toBe(0o700)
    expect(lint()).toEqual(first)
    project.write('002_drop.sql', '-- strata:up\nALTER TABLE users ADD COLUMN nickname text;\n-- strata:down\nALTER TABLE users DROP COLUMN nickname;\n')
    expect(errors(lint())).toEqual([])
  })

  it('a module that waits on something other than the database is recorded for two seconds, then reported', () => {
    project.write('001_users.sql', USERS)
    project.write('002_waits.ts', `export default {
  async up(op) {
    op.dropColumn('users', 'email')
    await new Promise((resolve) => setTimeout(resolve, 60_000))
    op.dropTable('users')
  },
  down(op) {},
}
`)
    const started = Date.now()
    const run = strata(['lint', '--json', '--url', 'sqlite:app.db', '--migrations', 'migrations', '002_waits'], project.dir, { STRATA_CACHE_DIR: join(project.dir, 'cache') })
    expect(Date.now() - started).toBeLessThan(15_000)
    const findings = (JSON.parse(run.stdout) as { findings: Array<{ rule: string; message: string }> }).findings
    expect(findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['drop-column', 'unparsed']))
    expect(findings.map((f) => f.rule)).not.toContain('drop-table')
    expect(findings.find((f) => f.rule === 'unparsed')?.message).toContain('did not finish within 2 s')
  })
})
