import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { parseDatabaseUrl } from '../../src/dialects/url.js'
import { PostgresLock } from '../../src/dialects/postgres/postgres-lock.js'
import { acquireLock, currentOwner } from '../../src/lock/acquire-lock.js'
import { StrataError } from '../../src/errors/index.js'

// A real server is required: an unreachable one fails these tests (never a silent skip).
const URL_TEXT = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

function lockFor(schema: string): PostgresLock {
  return new PostgresLock(parseDatabaseUrl(`${URL_TEXT}?schema=${schema}`))
}

describe('PostgreSQL advisory lock', () => {
  it('a second runner sees the holder, waits, and gives up with E_LOCKED naming it', async () => {
    const schema = `lock_${process.pid}_${Date.now()}`
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

  it('locks of different schemas are independent', async () => {
    const a = await acquireLock(lockFor(`a_${process.pid}`), { timeoutMs: 1000, command: 'up' })
    const b = await acquireLock(lockFor(`b_${process.pid}`), { timeoutMs: 1000, command: 'up' })
    await a.release()
    await b.release()
  })

  it('unlock --force terminates the holding session, and the server releases the lock', async () => {
    const schema = `force_${process.pid}_${Date.now()}`
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
