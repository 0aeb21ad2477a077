import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { errorOf } from '../support/errors.js'

function configFile(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'strata-config-'))
  const file = join(dir, 'strata.yaml')
  writeFileSync(file, text)
  return { dir, file }
}


describe('loadConfig', () => {
  it('resolves relative paths from the config folder and fills policy defaults', () => {
    const { dir, file } = configFile('migrations: db/migrations\nenvironments:\n  development: { url: "sqlite:data/app.db" }\n')
    const config = loadConfig({ config: file, cwd: '/', environ: {} })
    expect(config.migrationsDir).toBe(join(dir, 'db/migrations'))
    expect(config.url).toMatchObject({ dialect: 'sqlite', path: join(dir, 'data/app.db') })
    expect(config.environment).toBe('development')
    expect(config.tablePrefix).toBe('strata_')
    expect(config.policy).toEqual({
      requireBackup: false, requireChangeRequest: false, requireRehearsal: false, maintenanceWindow: [],
      lintFailOn: 'error', onFailure: 'rollback', strategy: 'direct', confirm: false, rehearsalMaxAge: '7d',
    })
  })

  it('picks the environment from --env, then STRATA_ENV, then the config', () => {
    const { file } = configFile('environment: staging\nenvironments:\n  staging: { url: "sqlite:s.db" }\n  production: { url: "sqlite:p.db", policy: { on_failure: stop } }\n')
    expect(loadConfig({ config: file, environ: {} }).environment).toBe('staging')
    expect(loadConfig({ config: file, environ: { STRATA_ENV: 'production' } }).policy.onFailure).toBe('stop')
    expect(loadConfig({ config: file, env: 'staging', environ: { STRATA_ENV: 'production' } }).environment).toBe('staging')
    const unknown = errorOf(() => loadConfig({ config: file, env: 'prod', environ: {} }))
    expect(unknown.code).toBe('E_CONFIG')
    expect(unknown.hint).toContain('did you mean `production`?')
  })

  it('expands ${VAR} only in the selected environment and names a missing one', () => {
    const { file } = configFile('environments:\n  development: { url: "sqlite:d.db" }\n  production: { url: "${DB_URL}" }\n')
    expect(loadConfig({ config: file, environ: {} }).environment).toBe('development')
    expect(loadConfig({ config: file, env: 'production', environ: { DB_URL: 'sqlite:/tmp/p.db' } }).url.path).toBe('/tmp/p.db')
    const missing = errorOf(() => loadConfig({ config: file, env: 'production', environ: {} }))
    expect(missing.message).toContain('${DB_URL}')
    expect(missing.exitCode).toBe(2)
  })

  it('expands ${VAR} in values outside environments too (a webhook URL, a sink path), before they are validated', () => {
    const { file } = configFile(`environments:\n  development: { url: "sqlite:d.db" }\nalerts:\n  critical: [migration_failure]\n  sinks:\n    - { type: webhook, url: "\${HOOK_URL}" }\n    - { type: file, path: "\${LOG_DIR}/alerts.jsonl" }\n`)
    const config = loadConfig({ config: file, environ: { HOOK_URL: 'https://ops:s3cret@hooks.example/a?token=t', LOG_DIR: '/var/log/strata' } })
    expect(config.raw.alerts?.sinks).toEqual([
      { type: 'webhook', url: 'https://ops:s3cret@hooks.example/a?token=t' },
      { type: 'file', path: '/var/log/strata/alerts.jsonl' },
    ])
    const missing = errorOf(() => loadConfig({ config: file, environ: { LOG_DIR: '/tmp' } }))
    expect(missing.code).toBe('E_CONFIG')
    expect(missing.message).toBe('`alerts.sinks.0.url` uses ${HOOK_URL}, which is not set in the environment')
    expect(missing.hint).toBe('export HOOK_URL=… before running strata')
    const inline = loadConfig({ config: { environments: { development: { url: 'sqlite:d.db' } }, migrations: '${MIG}' }, environ: { MIG: 'db/m' }, cwd: '/srv' })
    expect(inline.migrationsDir).toBe('/srv/db/m')
  })

  it('--url overrides only the URL: the environment policy still applies', () => {
    const { file } = configFile('environments:\n  production: { url: "sqlite:p.db", policy: { on_failure: stop } }\n')
    const config = loadConfig({ config: file, url: 'sqlite:/tmp/other.db', environ: {} })
    expect(config.url.path).toBe('/tmp/other.db')
    expect(config.policy.onFailure).toBe('stop')
  })

  it('a known key in the wrong place is named as such, not "did you mean" itself', () => {
    const { file } = configFile('environments:\n  development: { url: "sqlite:d.db" }\nalerts:\n  sinks: [{ type: console, path: a.jsonl }]\n')
    const e = errorOf(() => loadConfig({ config: file, environ: {} }))
    expect(e.message).toContain('unknown key `alerts.sinks.0.path`')
    expect(e.hint).toBe('`path` is a known key, but not at `alerts.sinks.0`: remove it or move it where it belongs')
  })

  it('refuses unknown keys at any depth, naming the closest known key', () => {
    const nested = configFile('environments:\n  development:\n    url: "sqlite:d.db"\n    policy: { require_backups: true }\n')
    const e = errorOf(() => loadConfig({ config: nested.file, environ: {} }))
    expect(e.message).toContain('environments.development.policy.require_backups')
    expect(e.hint).toBe('did you mean `require_backup`?')
    const bad = configFile('environments:\n  development: { url: "sqlite:d.db", policy: { on_failure: explode } }\n')
    expect(errorOf(() => loadConfig({ config: bad.file, environ: {} })).message).toContain('on_failure')
  })

  it('reports YAML syntax errors with their line', () => {
    const { file } = configFile('environments:\n  development: { url: "sqlite:d.db"\n')
    const e = errorOf(() => loadConfig({ config: file, environ: {} }))
    expect(e.code).toBe('E_CONFIG')
    expect(e.details.line).toBeGreaterThan(0)
  })

  it('works from flags alone, and refuses --env without a config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-noconfig-'))
    const config = loadConfig({ cwd: dir, url: 'app.db', environ: {} })
    expect(config.file).toBeNull()
    expect(config.url.path).toBe(join(dir, 'app.db'))
    expect(config.migrationsDir).toBe(join(dir, 'migrations'))
    expect(errorOf(() => loadConfig({ cwd: dir, environ: {} })).hint).toContain('--url')
    expect(errorOf(() => loadConfig({ cwd: dir, url: 'app.db', env: 'production', environ: {} })).code).toBe('E_CONFIG')
  })

  it('masks credentials in URLs it shows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-noconfig-'))
    const e = errorOf(() => loadConfig({ cwd: dir, url: 'oracle://admin:hunter2@db/x', environ: {} }))
    expect(e.message).not.toContain('hunter2')
    expect(e.message).toContain('admin:****@db')
  })
})
