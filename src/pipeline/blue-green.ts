import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { digestDifferences, tableDigests } from '../checks/table-digest.js'
import { runUserCheck } from '../checks/user-checks.js'
import type { CheckResult } from '../checks/check.js'
import type { ResolvedConfig } from '../config/load-config.js'
import { PointerStore, greenLocation, locationOf, sqliteLocationExists, urlAt, type Pointer } from '../deploy/pointer.js'
import type { Connection, DatabaseUrl, Dialect } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import type { StrataEmitter } from '../events/events.js'
import { MAINTENANCE_CACHE_MS } from '../maintenance/status.js'
import { copyDatabase } from './backup.js'
import { withLock } from './lock.js'
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js'
import { loadProject, newRunId, whoAmI, withConnection, type Project } from './session.js'

/**
 * The blue-green strategy (SPEC S10) on SQLite and PostgreSQL. The application reaches its
 * database through the pointer in the configured ("home") database (`activeDatabase()`); a
 * deploy copies the database it points at ("blue") into a new one ("green"), migrates and
 * validates green, checks that blue took no writes meanwhile (they would be lost), switches the
 * pointer, probes the application on green (switching back when a probe fails) and keeps blue,
 * so that `strata deploy --rollback` switches back at once.
 */

export interface BlueGreenOptions extends Omit<MigrateOptions, 'direction' | 'target' | 'backup'> {}


export interface BlueGreenResult extends MigrateResult {
  /** The pointer as the deploy left it. */
  readonly pointer: Pointer
}

/** `deploy --strategy blue-green`: `blue` is the project on the database the pointer names now. */
export async function blueGreenDeploy(home: ResolvedConfig, blue: Project, options: BlueGreenOptions): Promise<BlueGreenResult> {
  refuseEngine(home.url)
  const runId = newRunId()
  const say = (message: string): void => blue.events.emit('log', { level: 'info', message })
  const homeAccess = { config: home, dialect: blue.dialect }
  return withLock({ ...blue, config: home }, 'deploy blue-green', options, async () => {
    const blueLocation = locationOf(blue.config.url)
    const green = greenLocation(home.url, runId)
    const greenUrl = urlAt(home.url, green)
    say(`blue-green: copying ${blue.config.url.redacted} into ${greenUrl.redacted}`)
    const before = await withConnection(blue, (conn) => contents(blue.dialect, conn, blue.config.tablePrefix))
    await copyInto(blue, greenUrl)
    let result: MigrateResult
    try {
      await withConnection({ config: { ...home, url: greenUrl }, dialect: blue.dialect }, (conn) => new PointerStore(blue.dialect, home.tablePrefix).clear(conn))
      const greenProject = await loadProject({ ...blue.config, url: greenUrl }, blue.events)
      say(`blue-green: migrating ${greenUrl.redacted}`)
      result = await migrate(greenProject, { ...options, direction: 'up', target: 'heads' })
      const now = await withConnection(blue, (conn) => contents(blue.dialect, conn, blue.config.tablePrefix))
      const changed = digestDifferences(before, now)
      if (changed.length > 0) {
        throw new StrataError('E_VALIDATION', `blue-green: ${blue.config.url.redacted} took writes while its copy was migrated (${changed.join('; ')}); switching would lose them`, {
          hint: 'stop writes to the database during a blue-green deploy (or deploy with --strategy rolling), then deploy again',
        })
      }
    } catch (error) {
      await dropLocation(blue.dialect, home.url, green).catch(() => {})
      throw error
    }
    const greenDigest = digestOf(await withConnection({ config: { ...home, url: greenUrl }, dialect: blue.dialect }, (conn) => contents(blue.dialect, conn, home.tablePrefix)))
    const pointer: Pointer = { active: green, previous: blueLocation, switchedAt: new Date().toISOString(), switchedBy: whoAmI(), runId, activeDigest: greenDigest }
    await writePointer(homeAccess, pointer)
    say(`blue-green: switched ${home.environment ?? 'the application'} to ${greenUrl.redacted}; ${blue.config.url.redacted} kept for \`strata deploy --rollback\``)
    const failed = await probeApplication(blue, home)
    if (failed.length > 0) {
      await writePointer(homeAccess, { ...pointer, active: blueLocation, previous: green, switchedAt: new Date().toISOString(), activeDigest: digestOf(before) })
      throw new StrataError('E_VALIDATION', `blue-green: the application failed its checks on the new database (${failed.map((c) => `${c.name}: ${c.message}`).join('; ')}); switched back to ${blue.config.url.redacted}`, {
        hint: 'fix what the failing check names, then deploy again',
      })
    }
    return { ...result, pointer }
  })
}

/**
 * `deploy --rollback`: points the application back at the database it used before the last
 * switch, under the configured database's lock, after the environment's `confirm`. Refused when
 * the database in use took writes since the switch: going back would lose them.
 */
export async function blueGreenRollback(home: ResolvedConfig, dialect: Dialect, options: Pick<MigrateOptions, 'yes' | 'confirm' | 'lockTimeoutMs'>, events: StrataEmitter): Promise<Pointer> {
  refuseEngine(home.url)
  const access = { config: home, dialect }
  const store = new PointerStore(dialect, home.tablePrefix)
  const current = await withConnection(access, (conn) => store.read(conn))
  if (!current?.previous) {
    throw new StrataError('E_USAGE', `there is no earlier database to roll back to: ${home.environment ?? home.url.redacted} has had no blue-green switch`, {
      hint: 'a rollback follows `strata deploy --strategy blue-green`; to undo migrations otherwise, use `strata down`',
    })
  }
  const previous = current.previous
  if (!(await locationExists(dialect, home.url, previous))) {
    throw new StrataError('E_USAGE', `the earlier database ${urlAt(home.url, previous).redacted} no longer exists`, { hint: 'restore it from a backup, or deploy again' })
  }
  if (home.policy.confirm && !options.yes) {
    const question = `Point environment ${home.environment} back at ${urlAt(home.url, previous).redacted}?`
    if (!(options.confirm && (await options.confirm(question)))) {
      throw new StrataError('E_POLICY', `environment \`${home.environment}\` requires confirmation and ${options.confirm ? 'it was declined' : 'there is no terminal to ask on'}`, { rule: 'confirm', hint: 'answer yes on a terminal, or pass --yes' })
    }
  }
  return withLock({ config: home, dialect, events }, 'deploy --rollback', options, async () => {
    const activeUrl = urlAt(home.url, current.active)
    const now = digestOf(await withConnection({ config: { ...home, url: activeUrl }, dialect }, (conn) => contents(dialect, conn, home.tablePrefix)))
    if (current.activeDigest !== null && now !== current.activeDigest) {
      throw new StrataError('E_VALIDATION', `${activeUrl.redacted} took writes since the switch; pointing the application back at ${urlAt(home.url, previous).redacted} would lose them`, {
        hint: 'carry those writes over to the earlier database first, or fix forward with a new migration and `strata deploy`',
      })
    }
    const pointer: Pointer = { active: previous, previous: current.active, switchedAt: new Date().toISOString(), switchedBy: whoAmI(), runId: newRunId(), activeDigest: null }
    await writePointer(access, pointer)
    return pointer
  })
}

/** One digest for a whole database's contents. */
function digestOf(digests: Readonly<Record<string, string>>): string {
  return createHash('sha256').update(JSON.stringify(Object.entries(digests).sort(([a], [b]) => a.localeCompare(b)))).digest('hex')
}

function refuseEngine(url: DatabaseUrl): void {
  if (url.dialect === 'mysql') {
    throw new StrataError('E_USAGE', 'the blue-green strategy works on SQLite and PostgreSQL', { hint: 'deploy MySQL and MariaDB with --strategy rolling' })
  }
  if (url.dialect === 'postgres' && /[?&]schema=/.test(url.raw)) {
    throw new StrataError('E_USAGE', 'the blue-green strategy copies whole PostgreSQL databases; this URL names a schema', { hint: 'use a URL without ?schema=, or --strategy rolling' })
  }
}

async function writePointer(access: Pick<Project, 'config' | 'dialect'>, pointer: Pointer): Promise<void> {
  await withConnection(access, (conn) => new PointerStore(access.dialect, access.config.tablePrefix).write(conn, pointer))
}

/** Schema and every table's rows, as digests: what "blue took no writes" compares. */
async function contents(dialect: Dialect, conn: Connection, prefix: string): Promise<Record<string, string>> {
  const schema = await dialect.introspect(conn, prefix)
  return tableDigests(dialect, conn, schema)
}

/** A copy of `blue` in a new database at `url` (PostgreSQL: the database is created first). */
async function copyInto(blue: Project, url: DatabaseUrl): Promise<void> {
  await copyDatabase(blue.config.url, url, async (restore) => {
    if (url.dialect === 'postgres') {
      await withConnection(blue, (conn) => conn.execute({ sql: `CREATE DATABASE ${blue.dialect.quoteIdentifier(locationOf(url))}`, params: [] }))
    }
    await restore()
  })
}

async function dropLocation(dialect: Dialect, home: DatabaseUrl, location: string): Promise<void> {
  if (home.dialect === 'sqlite') {
    for (const suffix of ['', '-wal', '-shm', '-journal', '.strata-lock']) rmSync(`${location}${suffix}`, { force: true })
    return
  }
  const conn = await dialect.connect(home)
  try {
    await conn.execute({ sql: `DROP DATABASE IF EXISTS ${dialect.quoteIdentifier(location)} WITH (FORCE)`, params: [] })
  } finally {
    await conn.close()
  }
}

async function locationExists(dialect: Dialect, home: DatabaseUrl, location: string): Promise<boolean> {
  if (home.dialect === 'sqlite') return sqliteLocationExists(location)
  const conn = await dialect.connect(home)
  try {
    return (await conn.query({ sql: 'SELECT 1 FROM pg_database WHERE datname = ?', params: [location] })).length > 0
  } finally {
    await conn.close()
  }
}

/**
 * The config's HTTP and command postflight checks, run once the application reads the new
 * database (after its cached pointer expires): the SOP's application validation.
 */
async function probeApplication(project: Project, home: ResolvedConfig): Promise<CheckResult[]> {
  const probes = (home.raw.checks?.postflight ?? []).filter((check) => !('sql' in check))
  if (probes.length === 0) return []
  await new Promise((resolve) => setTimeout(resolve, MAINTENANCE_CACHE_MS + 100))
  const results: CheckResult[] = []
  for (const check of probes) results.push(await withConnection(project, (conn) => runUserCheck(check, { conn, cwd: home.baseDir })))
  for (const result of results) project.events.emit('check', { phase: 'postflight', ...result })
  return results.filter((r) => r.status === 'fail')
}
