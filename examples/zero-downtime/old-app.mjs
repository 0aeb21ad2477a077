#!/usr/bin/env node
// The dashboard application as it runs before 001: it only knows the `event` column. Run it
// against the database while `strata up` expands and backfills, and check afterwards that every
// graphic it inserted or renamed has the same `event_name`:
//
//   node examples/zero-downtime/old-app.mjs sqlite:examples/zero-downtime/dashboard.db --seconds 10 --log writes.json
//
// It inserts new graphics and renames the event of existing ones, one statement per transaction,
// as fast as the database lets it. A write that fails is reported and ends it with exit code 1.
// With --log it writes what it did as JSON: { writes, failures, final: { id: event } }.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, log: { type: 'string' }, 'pause-ms': { type: 'string', default: '2' } },
})
const url = positionals[0]
if (!url) {
  console.error('usage: old-app.mjs URL [--seconds N] [--log FILE] [--pause-ms N]')
  process.exit(2)
}

const db = await open(url)
const final = new Map()
const writes = []
const failures = []
let stopping = false
process.on('SIGTERM', () => (stopping = true))
process.on('SIGINT', () => (stopping = true))
const until = Date.now() + Number(values.seconds) * 1000
const known = await db.ids()
let n = 0
while (!stopping && Date.now() < until) {
  n++
  const event = `event ${process.pid}-${n}`
  try {
    if (n % 2 === 1 || known.length === 0) {
      const id = await db.insert(`graphic ${n}`, event)
      known.push(id)
      final.set(id, event)
      writes.push({ at: Date.now(), kind: 'insert', id, event })
    } else {
      const id = known[Math.floor(Math.random() * known.length)]
      await db.rename(id, event)
      final.set(id, event)
      writes.push({ at: Date.now(), kind: 'update', id, event })
    }
  } catch (error) {
    failures.push({ at: Date.now(), message: error instanceof Error ? error.message : String(error) })
    break
  }
  await new Promise((resolve) => setTimeout(resolve, Number(values['pause-ms'])))
}
await db.close()
if (values.log) writeFileSync(values.log, JSON.stringify({ writes, failures, final: Object.fromEntries(final) }))
console.error(`old-app: ${writes.length} write(s), ${failures.length} failure(s)`)
process.exit(failures.length === 0 ? 0 : 1)

/** A connection with the application's three queries, for SQLite, PostgreSQL or MySQL. */
async function open(url) {
  if (url.startsWith('sqlite:')) {
    const { default: Database } = await import('better-sqlite3')
    const sqlite = new Database(url.slice('sqlite:'.length), { timeout: 30_000 })
    return {
      ids: async () => sqlite.prepare('SELECT id FROM graphics').all().map((r) => r.id),
      insert: async (title, event) => Number(sqlite.prepare('INSERT INTO graphics (title, event) VALUES (?, ?)').run(title, event).lastInsertRowid),
      rename: async (id, event) => void sqlite.prepare('UPDATE graphics SET event = ? WHERE id = ?').run(event, id),
      close: async () => sqlite.close(),
    }
  }
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema')
  parsed.searchParams.delete('schema')
  if (parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:') {
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: parsed.toString() })
    await client.connect()
    if (schema) await client.query(`SET search_path TO "${schema.replace(/"/g, '""')}"`)
    return {
      ids: async () => (await client.query('SELECT id FROM graphics')).rows.map((r) => Number(r.id)),
      insert: async (title, event) => Number((await client.query('INSERT INTO graphics (title, event) VALUES ($1, $2) RETURNING id', [title, event])).rows[0].id),
      rename: async (id, event) => void (await client.query('UPDATE graphics SET event = $1 WHERE id = $2', [event, id])),
      close: () => client.end(),
    }
  }
  const mysql = await import('mysql2/promise')
  parsed.protocol = 'mysql:'
  const conn = await mysql.createConnection(parsed.toString())
  return {
    ids: async () => (await conn.query('SELECT id FROM graphics'))[0].map((r) => Number(r.id)),
    insert: async (title, event) => Number((await conn.execute('INSERT INTO graphics (title, event) VALUES (?, ?)', [title, event]))[0].insertId),
    rename: async (id, event) => void (await conn.execute('UPDATE graphics SET event = ? WHERE id = ?', [event, id])),
    close: () => conn.end(),
  }
}
