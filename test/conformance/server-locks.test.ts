import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationLock } from '../../src/dialects/dialect.js'
import { MysqlLock } from '../../src/dialects/mysql/mysql-lock.js'
import { PostgresLock } from '../../src/dialects/postgres/postgres-lock.js'
import { parseDatabaseUrl } from '../../src/dialects/url.js'
import { StrataError } from '../../src/errors/index.js'
import { acquireLock, currentOwner } from '../../src/lock/acquire-lock.js'

// One lock conformance suite for the server engines (STYLE 3.11). Real servers are required:
// an unreachable one fails these tests, never a silent skip.
const POSTGRES = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'
const SCOPES = [`lock_${process.pid}`, `a_${process.pid}`, `b_${process.pid}`, `force_${process.pid}`] as const

interface Engine {
  readonly name: string
  /** A lock scoped to `scope` (a schema on PostgreSQL, a database on MySQL). */
  lockFor(scope: string): MigrationLock
  setUp(): Promise<void>
  tearDown(): Promise<void>
}

async function mysqlAdmin(sql: string): Promise<void> {
  const mysql = (await import('mysql2/promise')).default
  const conn = await mysql.createConnection({ uri: MYSQL })
  try {
    await conn.query(sql)
  } finally {
    await conn.end()
  }
}

const ENGINES: readonly Engine[] = [
  {
    name: 'PostgreSQL advisory lock',
    lockFor: (scope) => new PostgresLock(parseDatabaseUrl(`${POSTGRES}?schema=${scope}`)),
    setUp: async () => {},
    tearDown: async () => {},
  },
  {
    name: 'MySQL GET_LOCK lock',
    // The holder keeps its identity in a table of the database, which must exist.
    lockFor: (scope) => new MysqlLock(parseDatabaseUrl(MYSQL.replace(/\/[^/]*$/, `/${scope}`))),
    setUp: async () => {
      for (const scope of SCOPES) await mysqlAdmin(`CREATE DATABASE IF NOT EXISTS \`${scope}\``)
    },
    tearDown: async () => {
      for (const scope of SCOPES) await mysqlAdmin(`DROP DATABASE IF EXISTS \`${scope}\``)
    },
  },
]

for (const engine of ENGINES) {
  describe(engine.name, () => {
    beforeAll(() => engine.setUp())
    afterAll(() => engine.tearDown())

    it('a second runner sees the holder, waits, and gives up with E_LOCKED naming it', async () => {
      const first = engine.lockFor(SCOPES[0])
      const second = engine.lockFor(SCOPES[0])
      const lease = await acquireLock(first, { timeoutMs: 1000, command: 'up' })
      try {
        const attempt = await second.tryAcquire(currentOwner('up'))
        expect('holder' in attempt && attempt.holder).toMatchObject({ pid: process.pid, host: hostname(), command: 'up' })
        expect((await second.inspect()).held).toBe(true)
        const started = Date.now()
        const error = await acquireLock(second, { timeoutMs: 300, command: 'up' }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(StrataError)
        expect((error as StrataError).code).toBe('E_LOCKED')
        expect((error as StrataError).message).toContain(`pid ${process.pid} on host ${hostname()}`)
        expect(Date.now() - started).toBeGreaterThanOrEqual(250)
      } finally {
        await lease.release()
      }
      const again = await acquireLock(second, { timeoutMs: 1000, command: 'up' })
      await again.release()
      expect((await first.inspect()).held).toBe(false)
    })

    it('locks of different scopes are independent', async () => {
      const a = await acquireLock(engine.lockFor(SCOPES[1]), { timeoutMs: 1000, command: 'up' })
      const b = await acquireLock(engine.lockFor(SCOPES[2]), { timeoutMs: 1000, command: 'up' })
      await a.release()
      await b.release()
    })

    it('unlock --force ends the holding session, and the server releases the lock', async () => {
      const lease = await acquireLock(engine.lockFor(SCOPES[3]), { timeoutMs: 1000, command: 'up' })
      const other = engine.lockFor(SCOPES[3])
      await expect(other.clear(false)).rejects.toMatchObject({ code: 'E_LOCKED' })
      expect(await other.clear(true)).toMatchObject({ pid: process.pid })
      const next = await acquireLock(other, { timeoutMs: 3000, command: 'up' })
      await next.release()
      await lease.release()
    })
  })
}
