// npm run bench: SPEC S15 targets measured as ratios against a plain baseline in the same run.
// Prints one line per measurement; exits 0 (numbers are reported, never asserted here).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const CLI = join(ROOT, 'dist', 'cli.js')
const { Strata } = await import(join(ROOT, 'dist', 'index.js'))

const work = mkdtempSync(join(tmpdir(), 'strata-bench-'))
const results = []
const report = (name, value, target) => {
  results.push({ name, value, target })
  console.log(`${name.padEnd(58)} ${value.padStart(14)}   target ${target}`)
}

/** Writes N small SQL migrations: a table, an index and two rows each. */
function writeMigrations(dir, count) {
  mkdirSync(dir, { recursive: true })
  const statements = []
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(5, '0')
    const up = [
      `CREATE TABLE t_${n} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT DEFAULT CURRENT_TIMESTAMP)`,
      `CREATE INDEX idx_t_${n}_name ON t_${n} (name)`,
      `INSERT INTO t_${n} (name) VALUES ('a'), ('b')`,
    ]
    statements.push(up)
    writeFileSync(join(dir, `${n}_table_${n}.sql`), `-- strata:up\n${up.join(';\n')};\n-- strata:down\nDROP TABLE t_${n};\n`)
  }
  return statements
}

/** The baseline: a plain better-sqlite3 script running the same statements and a history insert per migration. */
function plainApply(dbPath, statements) {
  const db = new Database(dbPath)
  db.exec('CREATE TABLE history (revision TEXT PRIMARY KEY, checksum TEXT, applied_at TEXT, duration_ms INTEGER)')
  const insert = db.prepare('INSERT INTO history VALUES (?, ?, ?, ?)')
  statements.forEach((up, i) => {
    const started = performance.now()
    db.exec('BEGIN')
    for (const sql of up) db.prepare(sql).run()
    insert.run(`m${i}`, 'x'.repeat(64), new Date().toISOString(), Math.round(performance.now() - started))
    db.exec('COMMIT')
  })
  db.close()
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function timeIt(fn) {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

function cliMs(args, cwd) {
  const started = performance.now()
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' })
  const ms = performance.now() - started
  if (r.status !== 0) throw new Error(`strata ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

// 1. Apply 500 small migrations: strata (API, in process) vs the plain script.
{
  const dir = join(work, 'apply')
  const statements = writeMigrations(join(dir, 'migrations'), 500)
  // fsync timing on shared disks varies a lot between runs: the two sides alternate, and the
  // ratio is taken per round (same disk conditions), then the median of the rounds.
  const rounds = 7
  const plain = []
  const ours = []
  for (let r = 0; r < rounds; r++) {
    const plainDb = join(dir, `plain-${r}.db`)
    plain.push(await timeIt(() => plainApply(plainDb, statements)))
    const strata = await Strata.open({ url: `sqlite:${join(dir, `strata-${r}.db`)}`, migrations: join(dir, 'migrations') })
    ours.push(await timeIt(() => strata.up()))
  }
  const p = median(plain)
  const s = median(ours)
  const ratios = ours.map((o, i) => o / plain[i])
  report('apply 500 migrations: plain better-sqlite3 script', `${p.toFixed(0)} ms`, '(baseline, median)')
  report('apply 500 migrations: strata up (API)', `${s.toFixed(0)} ms`, '(median)')
  report('apply 500 migrations: ratio strata / plain', `${median(ratios).toFixed(2)}x`, `<= 1.30x (median of ${rounds} rounds; min ${Math.min(...ratios).toFixed(2)}x, max ${Math.max(...ratios).toFixed(2)}x)`)
}

// 2. `strata status` CLI start to exit, 500 and 10,000 applied migrations.
for (const count of [500, 10_000]) {
  const dir = join(work, `status-${count}`)
  writeMigrations(join(dir, 'migrations'), count)
  const url = `sqlite:${join(dir, 'app.db')}`
  const args = ['--url', url, '--migrations', join(dir, 'migrations')]
  if (count === 500) cliMs(['up', ...args], dir)
  else cliMs(['stamp', 'heads', ...args], dir)
  cliMs(['status', ...args], dir) // warm the file cache
  const times = Array.from({ length: 5 }, () => cliMs(['status', ...args], dir))
  const baseline = median(Array.from({ length: 5 }, () => {
    const started = performance.now()
    spawnSync(process.execPath, ['-e', '0'])
    return performance.now() - started
  }))
  report(`status with ${count} applied: node -e 0 (process start)`, `${baseline.toFixed(0)} ms`, '(baseline)')
  report(`status with ${count} applied: strata status (CLI start to exit)`, `${median(times).toFixed(0)} ms`, count === 500 ? '< 200 ms' : '< 1000 ms')
}

rmSync(work, { recursive: true, force: true })
