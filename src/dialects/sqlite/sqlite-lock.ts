import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import type BetterSqlite3 from 'better-sqlite3'
import { StrataError } from '../../errors/index.js'
import { isProcessAlive, sleep } from '../../util/process.js'
import type { LockLease, LockOwner, MigrationLock } from '../dialect.js'

type Database = BetterSqlite3.Database

/** A claim younger than this, by a process that does not hold the write lock, is mid-acquire. */
const CLAIM_GRACE_MS = 5_000
/** How long opening the lock file waits for a runner that is creating it at the same moment. */
const SCHEMA_BUSY_MS = 5_000

interface HolderRow {
  readonly token: string
  readonly owner: string
  readonly pid: number
  readonly host: string
  readonly started_at: string
  readonly claimed_ms: number
  readonly command: string | null
}

/**
 * The SQLite migration lock (SPEC S4): the sidecar database `<db>.strata-lock`, in WAL mode.
 * The holder keeps an open write transaction on it for the whole run. The write lock is an
 * fcntl lock, so the kernel releases it when the process dies (even under `kill -9`); WAL mode
 * lets anyone read the holder row (owner, pid, host, start time) while it is held.
 *
 * A claim is written and committed, then the write transaction is taken again and kept; between
 * the two a fresh claim by a live process counts as held, so two runners never both proceed.
 */
export class SqliteLock implements MigrationLock {
  readonly #path: string
  readonly #memory: boolean

  constructor(dbPath: string) {
    this.#memory = dbPath === ':memory:'
    this.#path = `${dbPath}.strata-lock`
  }

  get path(): string {
    return this.#path
  }

  async tryAcquire(owner: LockOwner): Promise<{ lease: LockLease } | { holder: LockOwner | null }> {
    if (this.#memory) return { lease: { holder: owner, release: async () => {} } }
    const db = await this.#open()
    try {
      if (!tryBegin(db)) return { holder: readHolder(db) }
      const current = selectHolder(db)
      if (current && !isStale(current)) {
        db.exec('ROLLBACK')
        return { holder: toOwner(current) }
      }
      const token = randomUUID()
      db.prepare('DELETE FROM strata_lock_holder').run()
      db.prepare(
        `INSERT INTO strata_lock_holder (token, owner, pid, host, started_at, claimed_ms, command)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(token, owner.owner, owner.pid, owner.host, owner.startedAt, Date.now(), owner.command ?? null)
      db.exec('COMMIT')
      // Take the write lock again and keep it: others now see a fresh claim by a live process.
      const deadline = Date.now() + CLAIM_GRACE_MS
      while (!tryBegin(db)) {
        if (Date.now() > deadline) return { holder: readHolder(db) }
        await sleep(5)
      }
      const after = selectHolder(db)
      if (after?.token !== token) {
        db.exec('ROLLBACK')
        return { holder: after ? toOwner(after) : null }
      }
      return { lease: new SqliteLease(db, owner) }
    } finally {
      if (db.open && !db.inTransaction) db.close()
    }
  }

  async inspect(): Promise<{ holder: LockOwner | null; held: boolean }> {
    if (this.#memory) return { holder: null, held: false }
    const db = await this.#open()
    try {
      const held = !tryBegin(db)
      const row = held ? readRow(db) : selectHolder(db)
      if (!held) db.exec('ROLLBACK')
      return { holder: row ? toOwner(row) : null, held: held || (row !== null && !isStale(row)) }
    } finally {
      db.close()
    }
  }

  async clear(force: boolean): Promise<LockOwner | null> {
    if (this.#memory) return null
    const { holder, held } = await this.inspect()
    if (held && holder) {
      if (!force) {
        throw new StrataError('E_LOCKED', `the migration lock is held by pid ${holder.pid} on host ${holder.host} (since ${holder.startedAt})`, {
          hint: 'that run is still alive; wait for it, or use `strata unlock --force` to terminate it',
          holder,
        })
      }
      await terminate(holder)
    }
    const db = await this.#open()
    try {
      const deadline = Date.now() + 10_000
      while (!tryBegin(db)) {
        if (Date.now() > deadline) {
          throw new StrataError('E_LOCKED', `the migration lock at ${this.#path} is still held`, {
            hint: 'the holder did not exit; stop it by hand and run `strata unlock` again',
          })
        }
        await sleep(50)
      }
      db.prepare('DELETE FROM strata_lock_holder').run()
      db.exec('COMMIT')
      return holder
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK')
      db.close()
    }
  }

  async #open(): Promise<Database> {
    const { default: Sqlite } = await import('better-sqlite3')
    let db: Database
    try {
      db = new Sqlite(this.#path, { timeout: 0 })
    } catch (error) {
      throw new StrataError('E_CONNECT', `cannot open the lock file ${this.#path}: ${(error as Error).message}`, {
        hint: 'the lock file lives beside the database; check that its folder is writable',
      }, { cause: error })
    }
    try {
      await ensureSchema(db)
    } catch (error) {
      db.close()
      throw error
    }
    return db
  }
}

class SqliteLease implements LockLease {
  readonly #db: Database
  readonly holder: LockOwner

  constructor(db: Database, holder: LockOwner) {
    this.#db = db
    this.holder = holder
  }

  async release(): Promise<void> {
    if (!this.#db.open) return
    try {
      this.#db.prepare('DELETE FROM strata_lock_holder').run()
      this.#db.exec('COMMIT')
    } finally {
      this.#db.close()
    }
  }
}

/**
 * Puts the lock file in WAL mode and creates its table. Several runners may open a new lock
 * file at the same moment, so this waits on SQLite's busy handler and retries while another
 * process converts the file; it never mistakes a busy file for an error.
 */
async function ensureSchema(db: Database): Promise<void> {
  db.pragma(`busy_timeout = ${SCHEMA_BUSY_MS}`)
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // WAL keeps the holder row readable while the holder keeps its write transaction open.
        if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL')
        if (!hasHolderTable(db)) {
          db.exec(`CREATE TABLE IF NOT EXISTS strata_lock_holder (
            token TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
            started_at TEXT NOT NULL, claimed_ms INTEGER NOT NULL, command TEXT)`)
        }
        return
      } catch (error) {
        if (!isBusy(error) || attempt >= 100) throw error
        await sleep(10 + Math.floor(Math.random() * 20))
      }
    }
  } finally {
    db.pragma('busy_timeout = 0')
  }
}

function hasHolderTable(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'strata_lock_holder'").get() !== undefined
}

function tryBegin(db: Database): boolean {
  try {
    db.exec('BEGIN IMMEDIATE')
    return true
  } catch (error) {
    if (isBusy(error)) return false
    throw error
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? ''
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
}

function selectHolder(db: Database): HolderRow | null {
  return (db.prepare('SELECT * FROM strata_lock_holder LIMIT 1').get() as HolderRow | undefined) ?? null
}

function readRow(db: Database): HolderRow | null {
  try {
    return selectHolder(db)
  } catch (error) {
    if (isBusy(error)) return null
    throw error
  }
}

function readHolder(db: Database): LockOwner | null {
  const row = readRow(db)
  return row ? toOwner(row) : null
}

/** A recorded claim whose process is gone, or that nobody has held for longer than the grace. */
function isStale(row: HolderRow): boolean {
  if (row.host === hostname() && !isProcessAlive(row.pid)) return true
  return Date.now() - row.claimed_ms > CLAIM_GRACE_MS
}

function toOwner(row: HolderRow): LockOwner {
  return {
    owner: row.owner,
    pid: row.pid,
    host: row.host,
    startedAt: row.started_at,
    ...(row.command ? { command: row.command } : {}),
  }
}

async function terminate(holder: LockOwner): Promise<void> {
  if (holder.host !== hostname()) {
    throw new StrataError('E_LOCKED', `the lock holder runs on another host (${holder.host}, pid ${holder.pid})`, {
      hint: `stop that process on ${holder.host}; strata can only end processes on this host`,
    })
  }
  if (!isProcessAlive(holder.pid)) return
  process.kill(holder.pid, 'SIGTERM')
  const deadline = Date.now() + 5_000
  while (isProcessAlive(holder.pid) && Date.now() < deadline) await sleep(50)
  if (isProcessAlive(holder.pid)) process.kill(holder.pid, 'SIGKILL')
}
