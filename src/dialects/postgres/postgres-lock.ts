import { createHash } from 'node:crypto'
import type PgTypes from 'pg'
import { StrataError } from '../../errors/index.js'
import type { DatabaseUrl, LockLease, LockOwner, MigrationLock } from '../dialect.js'
import { openPostgresClient } from './postgres-driver.js'
import { postgresSettings } from './postgres-url.js'

type Client = PgTypes.Client

const APP_PREFIX = 'strata-lock'

/**
 * The PostgreSQL migration lock (SPEC S4): a session advisory lock held on a connection of its
 * own, so it never deadlocks with statements that cannot run in a transaction (CREATE INDEX
 * CONCURRENTLY waits for other transactions, not for sessions), and the server releases it when
 * the session dies. The holder is found through pg_locks and pg_stat_activity, where its
 * application_name carries the strata command, pid and host.
 */
export class PostgresLock implements MigrationLock {
  readonly #url: DatabaseUrl
  readonly #key: bigint

  constructor(url: DatabaseUrl) {
    this.#url = url
    const parsed = new URL(url.raw)
    const scope = `${parsed.host}/${parsed.pathname}/${postgresSettings(url).schema ?? ''}`
    this.#key = BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(`strata-migrate:${scope}`).digest('hex').slice(0, 16)}`))
  }

  async tryAcquire(owner: LockOwner): Promise<{ lease: LockLease } | { holder: LockOwner | null }> {
    const name = `${APP_PREFIX} ${owner.command ?? ''} pid=${owner.pid} host=${owner.host}`
    const client = await openPostgresClient(this.#url, name, { create: false })
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.#key.toString()])
      if (rows[0]?.ok) return { lease: new PostgresLease(client, this.#key, owner) }
      const holder = await this.#holder(client)
      await client.end().catch(() => {})
      return { holder: holder?.owner ?? null }
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    }
  }

  async inspect(): Promise<{ holder: LockOwner | null; held: boolean }> {
    const client = await openPostgresClient(this.#url, 'strata', { create: false })
    try {
      const holder = await this.#holder(client)
      return { holder: holder?.owner ?? null, held: holder !== null }
    } finally {
      await client.end().catch(() => {})
    }
  }

  async clear(force: boolean): Promise<LockOwner | null> {
    const client = await openPostgresClient(this.#url, 'strata', { create: false })
    try {
      const holder = await this.#holder(client)
      if (!holder) return null
      if (!force) {
        throw new StrataError('E_LOCKED', `the migration lock is held by ${describe(holder.owner)}; the server releases it when that session ends`, {
          hint: 'wait for that run, or use `strata unlock --force` to terminate its session',
          holder: holder.owner,
        })
      }
      await client.query('SELECT pg_terminate_backend($1)', [holder.backendPid])
      return holder.owner
    } finally {
      await client.end().catch(() => {})
    }
  }

  /** The session holding the advisory lock, if any. */
  async #holder(client: Client): Promise<{ owner: LockOwner; backendPid: number } | null> {
    const high = Number(BigInt.asUintN(32, this.#key >> 32n))
    const low = Number(BigInt.asUintN(32, this.#key))
    const { rows } = await client.query<{ pid: number; application_name: string; backend_start: Date; usename: string; client_addr: string | null }>(
      `SELECT a.pid, a.application_name, a.backend_start, a.usename, host(a.client_addr) AS client_addr
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [high, low],
    )
    const row = rows[0]
    if (!row) return null
    const match = /pid=(\d+) host=(\S+)/.exec(row.application_name)
    const command = new RegExp(`^${APP_PREFIX} (\\S*)`).exec(row.application_name)?.[1]
    return {
      backendPid: row.pid,
      owner: {
        owner: row.usename,
        pid: match ? Number(match[1]) : row.pid,
        host: match ? match[2]! : row.client_addr ?? 'server',
        startedAt: new Date(row.backend_start).toISOString(),
        ...(command ? { command } : {}),
      },
    }
  }
}

class PostgresLease implements LockLease {
  readonly #client: Client
  readonly #key: bigint
  readonly holder: LockOwner

  constructor(client: Client, key: bigint, holder: LockOwner) {
    this.#client = client
    this.#key = key
    this.holder = holder
  }

  async release(): Promise<void> {
    await this.#client.query('SELECT pg_advisory_unlock($1::bigint)', [this.#key.toString()]).catch(() => {})
    await this.#client.end().catch(() => {})
  }
}

function describe(owner: LockOwner): string {
  return `pid ${owner.pid} on host ${owner.host}`
}
