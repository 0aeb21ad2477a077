import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseUrl, Dialect, DialectName } from '../dialects/dialect.js'
import { StrataError, redact } from '../errors/index.js'

/** A database strata made for a test run, and how to get rid of it. */
export interface ScratchDatabase {
  readonly url: DatabaseUrl
  drop(): Promise<void>
}

type Maker = (dialect: Dialect, server: DatabaseUrl) => Promise<ScratchDatabase>

/**
 * Scratch databases per engine (SPEC S6): never the configured database. SQLite gets a temp
 * file; the servers a new database `strata_test_<hex>` on the configured server, created and
 * dropped through a session on the configured URL.
 */
const MAKERS: Readonly<Record<DialectName, Maker>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-test-'))
    const path = join(dir, 'scratch.db')
    return {
      url: { dialect: 'sqlite', raw: `sqlite:${path}`, redacted: `sqlite:${path}`, path },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  },
  postgres: (dialect, server) => serverScratch(dialect, server, (name) => `CREATE DATABASE "${name}"`, (name) => `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  mysql: (dialect, server) => serverScratch(dialect, server, (name) => `CREATE DATABASE \`${name}\``, (name) => `DROP DATABASE IF EXISTS \`${name}\``),
}

export function createScratch(dialect: Dialect, server: DatabaseUrl): Promise<ScratchDatabase> {
  return MAKERS[dialect.name](dialect, server)
}

async function serverScratch(dialect: Dialect, server: DatabaseUrl, create: (name: string) => string, drop: (name: string) => string): Promise<ScratchDatabase> {
  const name = `strata_test_${randomBytes(5).toString('hex')}`
  const admin = await dialect.connect(server)
  try {
    await admin.execute({ sql: create(name), params: [] })
  } catch (error) {
    throw new StrataError('E_CONNECT', `cannot create a scratch database on ${server.redacted}: ${(error as Error).message}`, {
      hint: 'strata test needs a user allowed to create databases (PostgreSQL CREATEDB, MySQL CREATE); it never touches the configured database',
    }, { cause: error })
  } finally {
    await admin.close()
  }
  const parsed = new URL(server.raw)
  parsed.pathname = `/${name}`
  const raw = parsed.toString()
  return {
    url: { dialect: server.dialect, raw, redacted: redact(raw) },
    drop: async () => {
      const conn = await dialect.connect(server)
      try {
        await conn.execute({ sql: drop(name), params: [] })
      } finally {
        await conn.close()
      }
    },
  }
}
