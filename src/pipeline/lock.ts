import type { Connection, LockLease } from '../dialects/dialect.js'
import { acquireLock } from '../lock/acquire-lock.js'
import { connect, type Project } from './session.js'

export interface LockOptions {
  /** `--lock-timeout` in milliseconds. */
  readonly lockTimeoutMs: number
}

/** Holds the migration lock around `fn` (SPEC S4), waiting up to the lock timeout for it. */
export async function withLock<T>(project: Pick<Project, 'config' | 'dialect' | 'events'>, command: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = project.dialect.lock(project.config.url, project.config.tablePrefix)
  const lease: LockLease = await acquireLock(lock, {
    timeoutMs: options.lockTimeoutMs,
    command,
    onWait: (holder) => project.events.emit('lock:wait', { holder }),
  })
  try {
    return await fn()
  } finally {
    await lease.release().catch(() => {})
  }
}

/**
 * The lock plus a session, closing runs left `running` by a dead process first. The session is
 * reopened by `reconnect` (a SQLite restore replaces the file under it).
 */
export interface LockedSession {
  readonly conn: Connection
  reconnect(): Promise<Connection>
  close(): Promise<void>
}

export async function withLockedSession<T>(project: Project, command: string, options: LockOptions, fn: (session: LockedSession) => Promise<T>): Promise<T> {
  return withLock(project, command, options, async () => {
    let conn: Connection | null = await connect(project)
    const session: LockedSession = {
      get conn(): Connection {
        if (!conn) throw new Error('the session is closed')
        return conn
      },
      async reconnect() {
        await conn?.close().catch(() => {})
        conn = await connect(project)
        return conn
      },
      async close() {
        await conn?.close().catch(() => {})
        conn = null
      },
    }
    try {
      if (await project.history.exists(session.conn)) {
        for (const id of await project.history.closeInterrupted(session.conn)) {
          project.events.emit('log', { level: 'warn', message: `run ${id} was interrupted (its process ended without finishing); marked interrupted` })
        }
      }
      return await fn(session)
    } finally {
      await session.close()
    }
  })
}
