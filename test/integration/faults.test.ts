/**
 * Fault tests (issue 4, point 4; SPEC S4, S5, S12, S13): whatever goes wrong — a runner killed
 * with -9, a corrupted backup, a held lock, an unwritable or full backup folder, a failing
 * postflight invariant — no committed data is lost and the history tables tell the truth.
 * Everything runs on real databases through the built CLI.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CLI, strata, strataAsync, useProject, URL_ARGS, type CliResult } from '../support/cli.js'
import { columns, dumpUserData, rows } from '../support/sqlite.js'
import { DIALECT, type TestDatabase } from '../support/dialects.js'

const IS_ROOT = process.getuid?.() === 0

// Databases: a SQLite file in the project, or a fresh PostgreSQL schema dropped afterwards.
type Engine = TestDatabase

/** strata.yaml (written as JSON, which YAML reads) with a development environment. */
function writeConfig(dir: string, url: string, extra: { policy?: Record<string, unknown>; checks?: Record<string, unknown> } = {}): void {
  const config: Record<string, unknown> = {
    migrations: 'migrations',
    environment: 'development',
    environments: { development: { url, ...(extra.policy ? { policy: extra.policy } : {}) } },
    backup: { dir: 'backups' },
    ...(extra.checks ? { checks: extra.checks } : {}),
  }
  writeFileSync(join(dir, 'strata.yaml'), `${JSON.stringify(config, null, 2)}\n`)
}

interface RunRow {
  run_id: string
  command: string
  status: string
  backup_id: string | null
  error: string | null
}

async function runsOf(db: Engine): Promise<RunRow[]> {
  return db.rows<RunRow>('SELECT run_id, command, status, backup_id, error FROM strata_runs ORDER BY started_at, run_id')
}

async function historyOf(db: Engine): Promise<string[]> {
  return (await db.rows<{ revision: string }>('SELECT revision FROM strata_history ORDER BY revision')).map((r) => r.revision)
}

interface Manifest {
  id: string
  runId: string | null
  reason: string
  file: string
  sha256: string
  size: number
  rowCounts: Record<string, number>
  revisions: string[]
  verified: { ok: boolean } | null
}

function manifests(backupDir: string): Manifest[] {
  if (!existsSync(backupDir)) return []
  return readdirSync(backupDir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(backupDir, n), 'utf8')) as Manifest)
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Fills a table with `n` rows through a recursive CTE (valid on SQLite and PostgreSQL). */
function fill(table: string, n: number, payload = "'row ' || n"): string {
  return `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n}) INSERT INTO ${table} (id, payload) SELECT n, ${payload} FROM s`
}

// ---------------------------------------------------------------------------------------------
// Mounts: a tmpfs as the backup folder. Root mounts it directly; anyone else runs the CLI in a
// private user + mount namespace (`unshare --user --map-root-user --mount`). When neither is
// possible the test fails saying so — it is never silently skipped.

type MountedRun = (args: readonly string[]) => CliResult & { files: string[] }

function unshareWorks(): { ok: boolean; why: string } {
  const probe = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=16k tmpfs "$1"', 'sh', process.cwd()], { encoding: 'utf8' })
  if (probe.error) return { ok: false, why: probe.error.message }
  return { ok: probe.status === 0, why: probe.stderr.trim() || `exit ${probe.status}` }
}

/**
 * Runs `body` with `dir` as a tmpfs mounted with `options`; each `run` runs the CLI in `cwd`
 * and returns its result plus the files left in `dir` (listed while it is still mounted).
 */
async function withTmpfs(dir: string, options: string, cwd: string, body: (run: MountedRun) => Promise<void> | void): Promise<void> {
  mkdirSync(dir, { recursive: true })
  if (IS_ROOT) {
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' })
    if (mount.status !== 0) throw new Error(`cannot mount a tmpfs (-o ${options}) on ${dir} as root: ${mount.stderr || mount.error?.message}`)
    try {
      await body((args) => ({ ...strata(args, cwd), files: readdirSync(dir).sort() }))
    } finally {
      spawnSync('umount', [dir])
    }
    return
  }
  const unshare = unshareWorks()
  if (!unshare.ok) {
    throw new Error(`this fault test needs a small tmpfs: not root, and \`unshare --user --map-root-user --mount\` cannot mount one (${unshare.why}); run the tests as root or enable unprivileged user namespaces`)
  }
  const listing = `${dir}.listing`
  const script = 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 97; d=$2; l=$3; shift 3; "$@"; rc=$?; ls -A "$d" > "$l"; exit $rc'
  await body((args) => {
    const result = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', options, dir, listing, process.execPath, CLI, ...args], {
      cwd,
      env: { ...process.env, STRATA_ENV: '', STRATA_DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    if (result.status === 97) throw new Error(`cannot mount a tmpfs (-o ${options}) on ${dir} inside a user namespace: ${result.stderr}`)
    const files = readFileSync(listing, 'utf8').split('\n').filter(Boolean).sort()
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, files }
  })
}

// ---------------------------------------------------------------------------------------------

const EVENTS = '-- strata:up\nCREATE TABLE events (id integer PRIMARY KEY, payload text NOT NULL);\n-- strata:down\nDROP TABLE events;\n'
const LONG_STEPS = 20
const KILL_AT = 5
/**
 * Rewrites existing rows and adds new ones, step by step, reporting each step (written inside
 * the migration's transaction) in long.progress. After step KILL_AT it waits for long.go, so a
 * first run is still mid-migration when the test kills it; the next run finds long.go and
 * finishes.
 */
const LONG = `import { existsSync, writeFileSync } from 'node:fs'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export default {
  async up(op) {
    for (let i = 1; i <= ${LONG_STEPS}; i++) {
      op.execute("UPDATE events SET payload = payload || '!' WHERE id = ?", [i])
      op.execute('INSERT INTO events (id, payload) VALUES (?, ?)', [1000 + i, 'long ' + i])
      await op.query('SELECT 1')
      writeFileSync('long.progress', String(i))
      await sleep(20)
      for (let waited = 0; i === ${KILL_AT} && !existsSync('long.go') && waited < 60000; waited += 50) await sleep(50)
    }
  },
  down(op) {
    op.execute('DELETE FROM events WHERE id > 1000')
    op.execute("UPDATE events SET payload = substr(payload, 1, length(payload) - 1) WHERE id <= ${LONG_STEPS}")
  },
}
`

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`kill -9 in the middle of a long migration on ${engine}`, () => {
    const project = useProject()
    let db: Engine
    let victim: ReturnType<typeof strataAsync> | undefined
    beforeEach(async () => {
      db = await DIALECT[engine].create(project.dir)
      victim = undefined
    })
    afterEach(async () => {
      // A failed assertion must not leave the runner we started holding locks on the schema.
      victim?.kill('SIGKILL')
      await victim?.done
      await db.drop()
    })

    it('loses no committed row, keeps the killed migration out of the history, and the next up applies it', async () => {
      writeConfig(project.dir, db.url, { policy: { require_backup: true } })
      project.write('001_events.sql', EVENTS)
      const first = strata(['up'], project.dir)
      expect(first.stderr).not.toContain('error[')
      expect(first.code).toBe(0)
      await db.exec(fill('events', 200))
      const before = await db.rows('SELECT id, payload FROM events ORDER BY id')
      expect(before).toHaveLength(200)

      project.write('002_long.ts', LONG)
      const progress = join(project.dir, 'long.progress')
      victim = strataAsync(['up'], project.dir)
      await waitFor('applying 002_long', () => victim!.stderrText().includes('applying 002_long'))
      // KILL_AT steps have written inside the migration's transaction: the kill lands mid-migration.
      await waitFor(`${KILL_AT} steps of 002_long`, () => existsSync(progress) && Number(readFileSync(progress, 'utf8')) >= KILL_AT)
      victim.kill('SIGKILL')
      const killed = await victim.done
      expect(killed.code).not.toBe(0)
      expect(Number(readFileSync(progress, 'utf8'))).toBe(KILL_AT)

      // Every committed row is there, unchanged; nothing of the half-run migration is.
      expect(await db.rows('SELECT id, payload FROM events ORDER BY id')).toEqual(before)
      expect(await historyOf(db)).toEqual(['001_events'])
      const runsAfterKill = await runsOf(db)
      expect(runsAfterKill.map((r) => `${r.command}:${r.status}`)).toEqual(['up:succeeded', 'up:running'])
      const killedRun = runsAfterKill[1]!.run_id

      // The killed run took its backup before it migrated, and that backup is sound.
      const killedBackup = manifests(join(project.dir, 'backups')).find((m) => m.runId === killedRun)
      expect(killedBackup, 'a manifest written by the killed run').toBeDefined()
      expect(killedBackup!.reason).toBe('up')
      expect(killedBackup!.revisions).toEqual(['001_events'])
      expect(killedBackup!.rowCounts['events']).toBe(200)
      expect(killedBackup!.verified).toMatchObject({ ok: true })
      if (engine === 'sqlite') {
        // (On PostgreSQL the run's own verification was a trial restore; once is enough for the time budget.)
        const verified = strata(['backup', 'verify', killedBackup!.id], project.dir)
        expect(verified.stderr).not.toContain('error[')
        expect(verified.code).toBe(0)
      }

      // The next up proceeds by itself, marks the killed run interrupted and applies the migration once.
      writeFileSync(join(project.dir, 'long.go'), '')
      const next = strata(['up', '--lock-timeout', '10'], project.dir)
      expect(next.stderr).not.toContain('error[')
      expect(next.code).toBe(0)
      expect(next.stderr).toContain(`run ${killedRun} was interrupted`)
      expect(await historyOf(db)).toEqual(['001_events', '002_long'])
      const runs = await runsOf(db)
      expect(runs.map((r) => `${r.command}:${r.status}`)).toEqual(['up:succeeded', 'up:interrupted', 'up:succeeded'])
      expect(runs[1]!.run_id).toBe(killedRun)
      expect(runs[2]!.backup_id).toEqual(expect.any(String))
      const applies = await db.rows<{ revision: string }>("SELECT revision FROM strata_log WHERE action = 'apply' ORDER BY seq")
      expect(applies.map((r) => r.revision)).toEqual(['001_events', '002_long'])
      const expected = [
        ...before.map((r) => (Number(r['id']) <= LONG_STEPS ? { ...r, payload: `${String(r['payload'])}!` } : r)),
        ...Array.from({ length: LONG_STEPS }, (_, i) => ({ id: 1001 + i, payload: `long ${i + 1}` })),
      ]
      expect(await db.rows('SELECT id, payload FROM events ORDER BY id')).toEqual(expected)
    })
  })
}

describe('backups that cannot be trusted, or cannot be taken', () => {
  const project = useProject()
  const file = (): string => join(project.dir, 'app.db')
  const backupDir = (): string => join(project.dir, 'backups')

  /** `events` applied by 001 and filled with `n` rows, behind strata's back as an application would. */
  async function seeded(n = 50, payload?: string): Promise<Engine> {
    const db = await DIALECT.sqlite.create(project.dir)
    project.write('001_events.sql', EVENTS)
    const up = strata(['up', ...URL_ARGS], project.dir)
    expect(up.stderr).not.toContain('error[')
    expect(up.code).toBe(0)
    await db.exec(fill('events', n, payload))
    return db
  }

  it('a corrupted backup fails verify on its sha256 and restore refuses it, changing nothing', async () => {
    const db = await seeded()
    const created = strata(['backup', 'create', '--json', ...URL_ARGS], project.dir)
    expect(created.code).toBe(0)
    const backup = JSON.parse(created.stdout) as { id: string; path: string; size: number }
    // Rows written after the backup: a restore would lose them.
    await db.exec("INSERT INTO events (id, payload) VALUES (9001, 'after the backup')")
    const bytes = readFileSync(backup.path)
    expect(bytes.length).toBe(backup.size)
    const middle = Math.floor(bytes.length / 2)
    for (let i = middle; i < middle + 16; i++) bytes[i] = bytes[i]! ^ 0xff
    writeFileSync(backup.path, bytes)
    const before = dumpUserData(file())
    const historyBefore = await historyOf(db)

    const verify = strata(['backup', 'verify', backup.id, ...URL_ARGS], project.dir)
    expect(verify.code).toBe(1)
    expect(verify.stdout + verify.stderr).toMatch(/sha256/)
    expect(verify.stdout).toMatch(/(✗|FAIL)\s+sha256\s+\S+ does not match its sha256/)
    expect(verify.stderr).toContain(`backup ${backup.id} failed verification`)
    const list = JSON.parse(strata(['backup', 'list', '--json', ...URL_ARGS], project.dir).stdout) as { backups: Array<{ id: string; verified: boolean }> }
    expect(list.backups).toEqual([expect.objectContaining({ id: backup.id, verified: false })])

    const restore = strata(['backup', 'restore', backup.id, ...URL_ARGS], project.dir)
    expect(restore.code).toBe(1)
    expect(restore.stderr).toContain('error[E_BACKUP]')
    expect(restore.stderr).toMatch(/corrupted|sha256/)
    expect(dumpUserData(file())).toBe(before)
    expect(rows(file(), 'SELECT payload FROM events WHERE id = 9001')).toEqual([{ payload: 'after the backup' }])
    expect(await historyOf(db)).toEqual(historyBefore)
    expect((await runsOf(db)).filter((r) => r.status === 'restored' || (r.command === 'restore' && r.status === 'succeeded'))).toEqual([])
  })

  it('backup restore while another runner holds the lock exits 4 naming it and changes nothing', async () => {
    const db = await seeded()
    const created = strata(['backup', 'create', '--json', ...URL_ARGS], project.dir)
    expect(created.code).toBe(0)
    const backupId = (JSON.parse(created.stdout) as { id: string }).id
    await db.exec("INSERT INTO events (id, payload) VALUES (9001, 'after the backup')")
    const before = await db.rows('SELECT id, payload FROM events ORDER BY id')
    // Holds the lock until the test writes release (at most 30 s).
    project.write('002_slow.ts', `import { existsSync } from 'node:fs'
export default {
  async up(op) {
    op.createTable('slow', [{ name: 'id', type: 'integer', primaryKey: true }])
    await op.query('SELECT 1')
    for (let waited = 0; !existsSync('release') && waited < 30000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
  },
  down(op) { op.dropTable('slow') },
}
`)
    const holder = strataAsync(['up', ...URL_ARGS], project.dir)
    let restore: CliResult
    let check: CliResult
    let held: CliResult
    try {
      await waitFor('applying 002_slow', () => holder.stderrText().includes('applying 002_slow'))
      restore = strata(['backup', 'restore', backupId, '--lock-timeout', '1', ...URL_ARGS], project.dir)
      check = strata(['check', '--json', ...URL_ARGS], project.dir)
    } finally {
      writeFileSync(join(project.dir, 'release'), '')
      held = await holder.done
    }
    expect(restore.code).toBe(4)
    expect(restore.stderr).toContain('error[E_LOCKED]')
    expect(restore.stderr).toContain(`pid ${holder.pid} on host ${hostname()}`)
    // `check` reports the held lock as a warning, not a failure (SPEC S5).
    expect(check.code).toBe(0)
    const lock = (JSON.parse(check.stdout) as { checks: Array<{ name: string; status: string; message: string }> }).checks.find((c) => c.name === 'lock')
    expect(lock?.status).toBe('warn')
    expect(lock?.message).toContain(`pid ${holder.pid}`)
    expect(held.stderr).not.toContain('error[')
    expect(held.code).toBe(0)
    // The holder's work stands and the restore left no trace: rows, history and runs.
    expect(await db.rows('SELECT id, payload FROM events ORDER BY id')).toEqual(before)
    expect(await historyOf(db)).toEqual(['001_events', '002_slow'])
    expect(await db.tables()).toContain('slow')
    expect((await runsOf(db)).map((r) => `${r.command}:${r.status}`)).toEqual(['up:succeeded', 'up:succeeded'])
  })

  it('an unwritable backup folder stops up at preflight (exit 3) before any change', async () => {
    const db = await seeded()
    writeConfig(project.dir, 'sqlite:app.db', { policy: { require_backup: true } })
    project.write('002_extra.sql', '-- strata:up\nCREATE TABLE extra (id integer PRIMARY KEY);\nINSERT INTO events (id, payload) VALUES (9002, \'extra\');\n-- strata:down\nDROP TABLE extra;\n')
    const before = dumpUserData(file())
    const dir = backupDir()
    let run: CliResult
    if (IS_ROOT) {
      // Permissions do not stop root: a read-only file system does.
      let result: CliResult | undefined
      await withTmpfs(dir, 'ro,size=16m,mode=0700', project.dir, (cli) => {
        const up = cli(['up'])
        expect(up.files).toEqual([])
        result = up
      })
      run = result!
    } else {
      mkdirSync(dir, { recursive: true })
      chmodSync(dir, 0o500)
      try {
        run = strata(['up'], project.dir)
        expect(readdirSync(dir)).toEqual([])
      } finally {
        chmodSync(dir, 0o700)
      }
    }
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('error[E_PREFLIGHT]')
    expect(run.stderr).toMatch(new RegExp(`preflight failed: (.*; )?backup: [^\\n]*the backup directory ${escapeRegExp(dir)} is not writable`))
    expect(run.stderr).not.toMatch(/applying 002_extra/)
    expect(await historyOf(db)).toEqual(['001_events'])
    expect(await db.tables()).not.toContain('extra')
    expect(dumpUserData(file())).toBe(before)
    const runs = await runsOf(db)
    expect(runs.at(-1)).toMatchObject({ command: 'up', status: 'refused' })
    expect(runs.at(-1)!.error).toContain('E_PREFLIGHT')
  })

  it('a backup folder without room: up refuses at preflight (disk-space), backup create fails leaving nothing', async () => {
    // About 2 MB of rows against a 64 KiB file system.
    const db = await seeded(2000, "'row ' || n || ' ' || substr(hex(randomblob(600)), 1, 1000)")
    writeConfig(project.dir, 'sqlite:app.db', { policy: { require_backup: true } })
    project.write('002_extra.sql', '-- strata:up\nCREATE TABLE extra (id integer PRIMARY KEY);\n-- strata:down\nDROP TABLE extra;\n')
    const before = dumpUserData(file())
    expect(readFileSync(file()).length).toBeGreaterThan(2_000_000)
    const dir = backupDir()
    await withTmpfs(dir, 'size=64k,mode=0700', project.dir, async (cli) => {
      const up = cli(['up'])
      expect(up.code).toBe(3)
      expect(up.stderr).toContain('error[E_PREFLIGHT]')
      const space = /disk-space: the backup needs about ([\d.]+) MiB and (\S+) has ([\d.]+) MiB free/.exec(up.stderr)
      expect(space, up.stderr).not.toBeNull()
      expect(space![2]).toBe(dir)
      expect(Number(space![1])).toBeGreaterThan(Number(space![3]))
      expect(Number(space![1])).toBeGreaterThanOrEqual(2)
      expect(up.files).toEqual([])
      expect(await historyOf(db)).toEqual(['001_events'])
      expect(await db.tables()).not.toContain('extra')
      expect((await runsOf(db)).at(-1)).toMatchObject({ command: 'up', status: 'refused' })

      // `backup create` has no preflight: it runs into the full disk, says so and cleans up.
      const create = cli(['backup', 'create'])
      expect(create.code).toBe(1)
      expect(create.stderr).toContain('error[E_BACKUP]')
      expect(create.stderr).toMatch(/disk is full/)
      expect(create.stderr).toContain(dir)
      expect(create.files).toEqual([])
    })
    expect(dumpUserData(file())).toBe(before)
    expect(await historyOf(db)).toEqual(['001_events'])
  })
})

// ---------------------------------------------------------------------------------------------

const GRAPHICS = "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL, score integer);\nINSERT INTO graphics (id, title, score) VALUES (1, 'a', 10), (2, 'b', NULL), (3, 'c', 30);\n-- strata:down\nDROP TABLE graphics;\n"
const EVENT_NAME = `export default {
  up(op) { op.addColumn('graphics', { name: 'event_name', type: 'text', nullable: true }) },
  down(op) { op.dropColumn('graphics', 'event_name') },
}
`
const NO_NULL_EVENTS = { postflight: [{ name: 'no-null-events', sql: 'SELECT count(*) FROM graphics WHERE event_name IS NULL', expect: 0 }] }

describe('a failing postflight invariant', () => {
  const project = useProject()
  const file = (): string => join(project.dir, 'app.db')

  /** graphics with rows (applied without the invariant), then the config with it and 002 pending. */
  async function prepared(policy: Record<string, unknown>): Promise<{ db: Engine; before: string; graphics: unknown[] }> {
    const db = await DIALECT.sqlite.create(project.dir)
    project.write('001_graphics.sql', GRAPHICS)
    const setup = strata(['up', ...URL_ARGS], project.dir)
    expect(setup.code).toBe(0)
    await db.exec("INSERT INTO graphics (id, title, score) VALUES (4, 'd''s', 40), (5, 'e', -1)")
    writeConfig(project.dir, 'sqlite:app.db', { policy, checks: NO_NULL_EVENTS })
    project.write('002_event_name.ts', EVENT_NAME)
    return { db, before: dumpUserData(file()), graphics: await db.rows('SELECT * FROM graphics ORDER BY id') }
  }

  it('rolls the run back (on_failure default): exit 1, E_VALIDATION, the data equals the pre-run data', async () => {
    const { db, before, graphics } = await prepared({})
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toContain('no-null-events')
    expect(run.stderr).toMatch(/Database state: pre-run/)
    expect(columns(file(), 'graphics')).toEqual(['id', 'title', 'score'])
    expect(await db.rows('SELECT * FROM graphics ORDER BY id')).toEqual(graphics)
    expect(dumpUserData(file())).toBe(before)
    expect(await historyOf(db)).toEqual(['001_graphics'])
    const runs = await runsOf(db)
    expect(runs.at(-1)).toMatchObject({ command: 'up', status: 'rolled-back' })
    expect(runs.at(-1)!.error).toContain('E_VALIDATION')
    const log = await db.rows<{ revision: string; action: string }>('SELECT revision, action FROM strata_log ORDER BY seq')
    expect(log.map((l) => `${l.action} ${l.revision}`)).toEqual(['apply 001_graphics', 'apply 002_event_name', 'revert 002_event_name'])
    const status = JSON.parse(strata(['status', '--json'], project.dir).stdout) as { pending: string[]; drift: unknown }
    expect(status.pending).toEqual(['002_event_name'])
    expect(status.drift).toBeNull()
  })

  it('restores the pre-run backup with on_failure: restore, recording its id', async () => {
    const { db, before, graphics } = await prepared({ on_failure: 'restore' })
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toMatch(/Database state: pre-run/)
    expect(columns(file(), 'graphics')).toEqual(['id', 'title', 'score'])
    expect(await db.rows('SELECT * FROM graphics ORDER BY id')).toEqual(graphics)
    expect(dumpUserData(file())).toBe(before)
    expect(await historyOf(db)).toEqual(['001_graphics'])
    const last = (await runsOf(db)).at(-1)!
    expect(last).toMatchObject({ command: 'up', status: 'restored' })
    const taken = manifests(join(project.dir, 'backups')).filter((m) => m.runId === last.run_id)
    expect(taken).toHaveLength(1)
    expect(last.backup_id).toBe(taken[0]!.id)
    expect(run.stderr).toContain(`backup ${taken[0]!.id} was restored`)
  })

  it('keeps the migration applied with on_failure: stop, and says so', async () => {
    const { db, graphics } = await prepared({ on_failure: 'stop' })
    const run = strata(['up'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('error[E_VALIDATION]')
    expect(run.stderr).toMatch(/stay applied/)
    expect(run.stderr).not.toMatch(/Database state: pre-run/)
    expect(columns(file(), 'graphics')).toEqual(['id', 'title', 'score', 'event_name'])
    expect(await db.rows('SELECT * FROM graphics ORDER BY id')).toEqual(graphics.map((g) => ({ ...(g as object), event_name: null })))
    expect(await historyOf(db)).toEqual(['001_graphics', '002_event_name'])
    expect((await runsOf(db)).at(-1)).toMatchObject({ command: 'up', status: 'failed' })
  })
})
