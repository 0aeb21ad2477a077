import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Connection } from '../../src/dialects/dialect.js'
import { loadDialect } from '../../src/dialects/registry.js'
import { parseDatabaseUrl } from '../../src/dialects/url.js'
import type { ServerStats } from '../../src/monitor/metrics.js'
import { serverStatsQuery } from '../../src/monitor/server-stats.js'

// The server figures of a metrics sample (SPEC S8), read on the real servers through strata's own
// drivers. An unreachable server fails these tests, never a silent skip.
const POSTGRES = process.env['STRATA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

async function open(raw: string): Promise<Connection> {
  const url = parseDatabaseUrl(raw)
  return (await loadDialect(url.dialect)).connect(url, { create: false })
}

/** Asks `stats` until `done` holds (a lock wait takes a moment to show), at most ~5 s. */
async function until(stats: () => Promise<ServerStats>, done: (s: ServerStats) => boolean): Promise<ServerStats> {
  let last = await stats()
  for (let i = 0; i < 50 && !done(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    last = await stats()
  }
  return last
}

describe('serverStatsQuery on PostgreSQL', () => {
  const conns: Connection[] = []
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) conns.push(await open(POSTGRES))
  })
  afterAll(async () => {
    for (const conn of conns) await conn.close()
  })

  it('counts the sessions on the database and the lock waits', async () => {
    const stats = await serverStatsQuery('postgres', conns[0]!)()
    expect(stats.connections).toBeGreaterThanOrEqual(3) // ours, at least
    expect(Number.isInteger(stats.connections)).toBe(true)
    expect(stats.lockWaits).toBeGreaterThanOrEqual(0)
  })

  it('sees a session waiting on a lock', async () => {
    const [monitor, holder, waiter] = conns as [Connection, Connection, Connection]
    const key = 0x5700_0000 + Math.floor(Math.random() * 0xff_ffff)
    await holder.query({ sql: 'SELECT pg_advisory_lock(?)', params: [key] })
    const waiting = waiter.query({ sql: 'SELECT pg_advisory_lock(?)', params: [key] })
    try {
      const stats = await until(serverStatsQuery('postgres', monitor), (s) => (s.lockWaits ?? 0) >= 1)
      expect(stats.lockWaits).toBeGreaterThanOrEqual(1)
    } finally {
      await holder.query({ sql: 'SELECT pg_advisory_unlock(?)', params: [key] })
      await waiting
      await waiter.query({ sql: 'SELECT pg_advisory_unlock(?)', params: [key] })
    }
  })

  it('shares one query between overlapping calls', async () => {
    const stats = serverStatsQuery('postgres', conns[0]!)
    const [a, b] = await Promise.all([stats(), stats()])
    expect(a).toBe(b)
  })
})

describe('serverStatsQuery on MariaDB/MySQL', () => {
  const conns: Connection[] = []
  const table = `strata_ss_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) conns.push(await open(MYSQL))
    await conns[0]!.execute({ sql: `CREATE TABLE \`${table}\` (id INT PRIMARY KEY) ENGINE=InnoDB`, params: [] })
    await conns[0]!.execute({ sql: `INSERT INTO \`${table}\` VALUES (1)`, params: [] })
  })
  afterAll(async () => {
    await conns[0]?.execute({ sql: `DROP TABLE IF EXISTS \`${table}\``, params: [] })
    for (const conn of conns) await conn.close()
  })

  it('counts the connected threads', async () => {
    const stats = await serverStatsQuery('mysql', conns[0]!)()
    expect(stats.connections).toBeGreaterThanOrEqual(3)
    expect(Number.isInteger(stats.connections)).toBe(true)
    if (stats.lockWaits !== null) expect(stats.lockWaits).toBeGreaterThanOrEqual(0)
  })

  it('sees a transaction waiting on a row lock, where INNODB_TRX is readable', async () => {
    const [monitor, holder, waiter] = conns as [Connection, Connection, Connection]
    const stats = serverStatsQuery('mysql', monitor)
    if ((await stats()).lockWaits === null) return // no PROCESS privilege: the figure is null, as documented
    await holder.execute({ sql: 'START TRANSACTION', params: [] })
    await holder.query({ sql: `SELECT id FROM \`${table}\` WHERE id = 1 FOR UPDATE`, params: [] })
    await waiter.execute({ sql: 'START TRANSACTION', params: [] })
    const waiting = waiter.query({ sql: `SELECT id FROM \`${table}\` WHERE id = 1 FOR UPDATE`, params: [] })
    try {
      const seen = await until(stats, (s) => (s.lockWaits ?? 0) >= 1)
      expect(seen.lockWaits).toBeGreaterThanOrEqual(1)
    } finally {
      await holder.execute({ sql: 'COMMIT', params: [] })
      await waiting
      await waiter.execute({ sql: 'COMMIT', params: [] })
    }
  })
})
