import { createHash } from 'node:crypto'
import type * as Mysql from 'mysql2/promise'
import { StrataError } from '../../errors/index.js'
import type { DatabaseUrl, LockLease, LockOwner, MigrationLock } from '../dialect.js'
import { openMysqlSession } from './mysql-driver.js'

type Session = Mysql.Connection

/**
 * The MySQL/MariaDB migration lock (SPEC S4): `GET_LOCK` on a session of its own, released by
 * the server when that session ends. MySQL cannot show who holds a named lock beyond a
 * connection id, so the holder also writes its identity to `<prefix>lock`, keyed by that id:
 * a row whose connection no longer holds the lock is ignored.
 */
export class MysqlLock implements MigrationLock {
  readonly #url: DatabaseUrl
  readonly #name: string
  readonly #table: string

  constructor(url: DatabaseUrl, tablePrefix = 'strata_') {
    this.#url = url
    const database = decodeURIComponent(new URL(url.raw.replace(/^mariadb:/i, 'mysql:')).pathname.replace(/^\//, ''))
    // GET_LOCK names are server-wide and at most 64 characters.
    this.#name = `strata:${createHash('sha256').update(database).digest('hex').slice(0, 40)}`
    this.#table = `\`${`${tablePrefix}lock`.replace(/`/g, '``')}\``
  }

  async tryAcquire(owner: LockOwner): Promise<{ lease: LockLease } | { holder: LockOwner | null }> {
    const session = await openMysqlSession(this.#url)
    try {
      const [rows] = await session.query('SELECT GET_LOCK(?, 0) AS ok', [this.#name])
      if ((rows as Array<{ ok: number | null }>)[0]?.ok !== 1) {
        const holder = await this.#holder(session)
        await session.end().catch(() => session.destroy())
        return { holder: holder?.owner ?? null }
      }
      await session.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (connection_id bigint NOT NULL PRIMARY KEY,
        owner varchar(255) NOT NULL, pid int NOT NULL, host varchar(255) NOT NULL, started_at varchar(40) NOT NULL, command varchar(64))`)
      await session.query(`DELETE FROM ${this.#table}`)
      await session.query(`INSERT INTO ${this.#table} VALUES (CONNECTION_ID(), ?, ?, ?, ?, ?)`, [owner.owner, owner.pid, owner.host, owner.startedAt, owner.command ?? null])
      return { lease: new MysqlLease(session, this.#name, this.#table, owner) }
    } catch (error) {
      await session.end().catch(() => session.destroy())
      throw error
    }
  }

  async inspect(): Promise<{ holder: LockOwner | null; held: boolean }> {
    const session = await openMysqlSession(this.#url)
    try {
      const holder = await this.#holder(session)
      return { holder: holder?.owner ?? null, held: holder !== null }
    } finally {
      await session.end().catch(() => session.destroy())
    }
  }

  async clear(force: boolean): Promise<LockOwner | null> {
    const session = await openMysqlSession(this.#url)
    try {
      const holder = await this.#holder(session)
      if (!holder) return null
      if (!force) {
        throw new StrataError('E_LOCKED', `the migration lock is held by pid ${holder.owner.pid} on host ${holder.owner.host}; the server releases it when that session ends`, {
          hint: 'wait for that run, or use `strata unlock --force` to end its session',
          holder: holder.owner,
        })
      }
      await session.query(`KILL ${Number(holder.connectionId)}`)
      return holder.owner
    } finally {
      await session.end().catch(() => session.destroy())
    }
  }

  async #holder(session: Session): Promise<{ owner: LockOwner; connectionId: number } | null> {
    const [used] = await session.query('SELECT IS_USED_LOCK(?) AS id', [this.#name])
    const connectionId = (used as Array<{ id: number | null }>)[0]?.id
    if (connectionId === null || connectionId === undefined) return null
    let row: Record<string, unknown> | undefined
    try {
      const [rows] = await session.query(`SELECT * FROM ${this.#table} WHERE connection_id = ?`, [connectionId])
      row = (rows as Array<Record<string, unknown>>)[0]
    } catch {
      row = undefined // the holder has not written its row yet
    }
    const owner: LockOwner = row
      ? { owner: String(row['owner']), pid: Number(row['pid']), host: String(row['host']), startedAt: String(row['started_at']), ...(row['command'] ? { command: String(row['command']) } : {}) }
      : { owner: 'unknown', pid: Number(connectionId), host: 'unknown (server connection id shown as pid)', startedAt: 'unknown' }
    return { owner, connectionId: Number(connectionId) }
  }
}

class MysqlLease implements LockLease {
  readonly #session: Session
  readonly #name: string
  readonly #table: string
  readonly holder: LockOwner

  constructor(session: Session, name: string, table: string, holder: LockOwner) {
    this.#session = session
    this.#name = name
    this.#table = table
    this.holder = holder
  }

  async release(): Promise<void> {
    await this.#session.query(`DELETE FROM ${this.#table} WHERE connection_id = CONNECTION_ID()`).catch(() => {})
    await this.#session.query('SELECT RELEASE_LOCK(?)', [this.#name]).catch(() => {})
    await this.#session.end().catch(() => this.#session.destroy())
  }
}
