import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDatabaseUrl } from '../../src/dialects/url.js'
import { MysqlLock } from '../../src/dialects/mysql/mysql-lock.js'
import { acquireLock, currentOwner } from '../../src/lock/acquire-lock.js'
import { StrataError } from '../../src/errors/index.js'

// A real server is required: an unreachable one fails these tests (never a silent skip).
const URL_TEXT = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

const created: string[] = []

async function server(sql: string): Promise<void> {
  const mysql = (await import('mysql2/promise')).default
  const conn = await mysql.createConnection({ uri: URL_TEXT })
  try {
    await conn.query(sql)
  } finally {
    await conn.end()
  }
}

function lockFor(database: string): MysqlLock {
  return new MysqlLock(parseDatabaseUrl(URL_TEXT.replace(/\/[^/]*$/, `/${database}`)))
}

beforeAll(async () => {
  for (const name of [`lock_${process.pid}`, `a_${process.pid}`, `b_${process.pid}`, `force_${process.pid}`]) {
    await server(`CREATE DATABASE IF NOT EXISTS \`${name}\``)
    created.push(name)
  }
})

afterAll(async () => {
  for (const name of created) await server(`DROP DATABASE IF EXISTS \`${name}\``)
})

describe('MySQL GET_LOCK lock', () => {
  it('a second runner sees the holder, waits, and gives up with E_LOCKED naming it', async () => {
    const schema = `lock_${process.pid}`
    const first = lockFor(schema)
    const second = lockFor(schema)
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

  it('locks of different databases are independent', async () => {
    const a = await acquireLock(lockFor(`a_${process.pid}`), { timeoutMs: 1000, command: 'up' })
    const b = await acquireLock(lockFor(`b_${process.pid}`), { timeoutMs: 1000, command: 'up' })
    await a.release()
    await b.release()
  })

  it('unlock --force terminates the holding session, and the server releases the lock', async () => {
    const schema = `force_${process.pid}`
    const holder = lockFor(schema)
    const lease = await acquireLock(holder, { timeoutMs: 1000, command: 'up' })
    const other = lockFor(schema)
    await expect(other.clear(false)).rejects.toMatchObject({ code: 'E_LOCKED' })
    const cleared = await other.clear(true)
    expect(cleared).toMatchObject({ pid: process.pid })
    const next = await acquireLock(other, { timeoutMs: 3000, command: 'up' })
    await next.release()
    await lease.release()
  })
})
