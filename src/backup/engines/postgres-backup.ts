import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Connection, DatabaseUrl } from '../../dialects/dialect.js'
import { openPostgres } from '../../dialects/postgres/postgres-driver.js'
import { postgresSettings } from '../../dialects/postgres/postgres-url.js'
import { StrataError, redact } from '../../errors/index.js'
import type { BackupEngine, CopyFacts, RowCounts } from '../engine.js'
import { findProgram, runProgram } from '../programs.js'
import { USER_SCHEMAS, pipeRestore, refuseOutsideDependents, restorePreamble } from './postgres-restore.js'

/**
 * PostgreSQL backups (SPEC S5) with the client programs: `pg_dump -Fc` writes the copy,
 * `pg_restore` reads it back, `psql` applies it. The URL's `?schema=NAME` scopes everything to
 * that schema (`pg_dump --schema`); without it the scope is every non-system schema of the
 * database. Ordinary and partitioned tables are counted, strata's own `strata_*` tables too.
 *
 * A restore replaces whole schemas, so it also takes back grants and comments on them. It does
 * not touch what lives outside schemas (roles, database settings, event triggers, publications,
 * large objects): a copy that recreates one of those fails to restore, changing nothing.
 */

export interface PostgresBackupOptions {
  /** How long `restore` waits for a table lock before giving up, leaving the database unchanged (default 30 s). */
  readonly lockTimeoutMs?: number
  /** Names `inspect`'s scratch database (default `strata_verify_<random hex>`); tests choose their own to find it. */
  readonly scratchName?: () => string
}

/** Tables counted per statement: one round trip per chunk, not per table. */
const COUNT_CHUNK = 100

/** What a URL's copy covers: one schema, or (`schema` null) every user schema; `home` keys its tables without a prefix. */
export interface Scope {
  readonly schema: string | null
  readonly home: string
}

export function createPostgresBackup(options: PostgresBackupOptions = {}): BackupEngine {
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000
  const scratchName = options.scratchName ?? (() => `strata_verify_${randomBytes(8).toString('hex')}`)
  return {
    extension: '.dump',
    format: 'pg_dump-custom',
    programs: [['pg_dump'], ['pg_restore'], ['psql']],
    estimateSize: (url) => withSession(url, (conn) => estimateSize(conn, scopeOf(url))),
    create: (url, file) => createCopy(url, file),
    inspect: (url, file) => inspectCopy(url, file, scratchName()),
    restore: (url, file) => restoreCopy(url, file, lockTimeoutMs),
    live: (url) => withSession(url, (conn) => inSnapshot(conn, () => readFacts(conn, scopeOf(url)))),
  }
}

export const postgresBackup: BackupEngine = createPostgresBackup()

/**
 * libpq settings for the client programs, from the URL: connection parameters go through the
 * environment so the password never appears in a process listing (SPEC S16); strata's own
 * `schema` parameter is dropped.
 */
export function postgresClientEnv(url: DatabaseUrl): Record<string, string> {
  const parsed = new URL(url.raw)
  const env: Record<string, string> = { PGAPPNAME: 'strata-backup' }
  const set = (name: string, value: string | null): void => {
    if (value) env[name] = value
  }
  set('PGHOST', parsed.hostname.replace(/^\[(.*)\]$/, '$1'))
  set('PGPORT', parsed.port)
  set('PGUSER', decodeURIComponent(parsed.username))
  set('PGPASSWORD', decodeURIComponent(parsed.password))
  set('PGDATABASE', decodeURIComponent(parsed.pathname.slice(1)))
  for (const [param, value] of parsed.searchParams) {
    const name = LIBPQ_ENV[param]
    // `no-verify` is node-postgres's own mode (encrypt, trust any certificate): libpq calls it `require`.
    if (name) set(name, param === 'sslmode' && value === 'no-verify' ? 'require' : value)
  }
  return env
}

/** URL parameters libpq also reads from the environment. */
const LIBPQ_ENV: Readonly<Record<string, string>> = {
  host: 'PGHOST', port: 'PGPORT', user: 'PGUSER', password: 'PGPASSWORD', dbname: 'PGDATABASE',
  sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY', sslcrl: 'PGSSLCRL',
  application_name: 'PGAPPNAME', connect_timeout: 'PGCONNECT_TIMEOUT', options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS', channel_binding: 'PGCHANNELBINDING', gssencmode: 'PGGSSENCMODE',
}

function scopeOf(url: DatabaseUrl): Scope {
  const { schema } = postgresSettings(url)
  return { schema, home: schema ?? 'public' }
}

/** The scope as a condition on `nspname` (with its parameters). */
function inScope(scope: Scope): { readonly where: string; readonly params: readonly unknown[] } {
  return scope.schema === null ? { where: USER_SCHEMAS, params: [] } : { where: 'nspname = ?', params: [scope.schema] }
}

// ——— create ———

/**
 * Counts rows and dumps in one snapshot: the session exports its REPEATABLE READ snapshot and
 * pg_dump adopts it (`--snapshot`) while the transaction stays open, so the manifest's counts
 * are exactly the copy's, whatever commits meanwhile.
 */
async function createCopy(url: DatabaseUrl, file: string): Promise<CopyFacts> {
  await findProgram(['pg_dump'])
  const scope = scopeOf(url)
  return withSession(url, async (conn) => {
    if (scope.schema !== null) await requireSchema(conn, url, scope.schema)
    const handle = await open(file, 'wx', 0o600)
    try {
      const facts = await inSnapshot(conn, async () => {
        const [row] = await conn.query<{ id: string }>({ sql: 'SELECT pg_export_snapshot() AS id', params: [] })
        const facts = await readFacts(conn, scope)
        await runProgram('pg_dump', dumpArgs(scope, row!.id), { env: postgresClientEnv(url), stdoutFd: handle.fd })
        return facts
      })
      await handle.sync()
      return facts
    } catch (error) {
      await rm(file, { force: true })
      throw error
    } finally {
      await handle.close().catch(() => {})
    }
  })
}

function dumpArgs(scope: Scope, snapshot: string): string[] {
  // Inside double quotes a pg_dump pattern matches the name literally (case, `.`, `*`).
  const schema = scope.schema === null ? [] : [`--schema="${scope.schema.replace(/"/g, '""')}"`]
  return ['--format=custom', '--no-password', `--snapshot=${snapshot}`, ...schema]
}

async function requireSchema(conn: Connection, url: DatabaseUrl, schema: string): Promise<void> {
  const rows = await conn.query({ sql: 'SELECT 1 FROM pg_namespace WHERE nspname = ?', params: [schema] })
  if (rows.length === 0) {
    throw new StrataError('E_BACKUP', `schema "${schema}" does not exist in ${url.redacted}: there is nothing to back up`, {
      hint: 'check the `schema` parameter of the URL; strata creates the schema on the first run that writes',
    })
  }
}

// ——— facts ———

/** Row counts and invalid indexes of the scope, in the session's current transaction. */
async function readFacts(conn: Connection, scope: Scope): Promise<CopyFacts> {
  const { where, params } = inScope(scope)
  const tables = await conn.query<{ schema: string; name: string }>({
    sql: `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND ${where} ORDER BY 1, 2`,
    params,
  })
  const invalid = await conn.query<{ schema: string; name: string }>({
    sql: `SELECT n.nspname AS schema, c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND ${where} ORDER BY 1, 2`,
    params,
  })
  const integrity = invalid.map((index) => `invalid index ${keyOf(scope, index)}`).join('\n')
  return { rowCounts: await countRows(conn, scope, tables), integrity: integrity || 'ok' }
}

async function countRows(conn: Connection, scope: Scope, tables: readonly { schema: string; name: string }[]): Promise<RowCounts> {
  const counts: Record<string, number> = {}
  for (let start = 0; start < tables.length; start += COUNT_CHUNK) {
    const chunk = tables.slice(start, start + COUNT_CHUNK)
    const sql = chunk.map((table, i) => `SELECT ${i} AS i, count(*) AS n FROM ${quote(table.schema)}.${quote(table.name)}`).join(' UNION ALL ')
    for (const row of await conn.query<{ i: number; n: string }>({ sql, params: [] })) {
      counts[keyOf(scope, chunk[row.i]!)] = Number(row.n)
    }
  }
  return counts
}

/** `table` in the URL's schema (or `public`), `schema.table` elsewhere. */
function keyOf(scope: Scope, object: { schema: string; name: string }): string {
  return object.schema === scope.home ? object.name : `${object.schema}.${object.name}`
}

async function estimateSize(conn: Connection, scope: Scope): Promise<number> {
  const sql = scope.schema === null
    ? 'SELECT pg_database_size(current_database()) AS size'
    : `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'm') AND n.nspname = ?`
  const [row] = await conn.query<{ size: string }>({ sql, params: scope.schema === null ? [] : [scope.schema] })
  return Number(row?.size ?? 0)
}

// ——— inspect ———

/**
 * Restores the copy into a scratch database and reads its facts there: the only proof that a
 * dump restores. The scratch database is dropped whatever happens.
 */
async function inspectCopy(url: DatabaseUrl, file: string, scratch: string): Promise<CopyFacts> {
  await findProgram(['pg_restore'])
  const toc = withoutPublicSchema(await readToc(url, file))
  return withSession(url, async (admin) => {
    try {
      await createScratch(admin, scratch)
      await withList(toc?.list, async (listArgs) => {
        const args = ['--exit-on-error', '--no-owner', '--no-password', `--dbname=${scratch}`, ...listArgs, file]
        await runProgram('pg_restore', args, { env: postgresClientEnv(url) }).catch((error: unknown) => {
          throw unreadable(file, 'does not restore', error)
        })
      })
      return await withSession(scratchUrl(url, scratch), (conn) => inSnapshot(conn, () => readFacts(conn, scopeOf(url))))
    } finally {
      await admin.execute({ sql: `DROP DATABASE IF EXISTS ${quote(scratch)} WITH (FORCE)`, params: [] })
    }
  })
}

/** The copy's table of contents (`pg_restore --list`); a damaged or foreign file fails here. */
async function readToc(url: DatabaseUrl, file: string): Promise<string> {
  try {
    return (await runProgram('pg_restore', ['--list', file], { env: postgresClientEnv(url) })).stdout
  } catch (error) {
    throw unreadable(file, 'is not a readable pg_dump archive', error)
  }
}

function unreadable(file: string, what: string, error: unknown): StrataError {
  return new StrataError('E_BACKUP', `the backup ${file} ${what}: ${(error as Error).message}`, {
    file,
    hint: 'the file is damaged or incomplete; use another backup, and check the disk it was written to',
  }, { cause: error })
}

/** Like the source, from template0 (nothing of template1's extras) with the source's encoding and locale. */
async function createScratch(admin: Connection, scratch: string): Promise<void> {
  const [source] = await admin.query<{ encoding: string; collate: string; ctype: string }>({
    sql: 'SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = current_database()',
    params: [],
  })
  try {
    await admin.execute({
      sql: `CREATE DATABASE ${quote(scratch)} TEMPLATE template0 ENCODING ${literal(source!.encoding)} LC_COLLATE ${literal(source!.collate)} LC_CTYPE ${literal(source!.ctype)}`,
      params: [],
    })
  } catch (error) {
    throw new StrataError('E_BACKUP', `cannot create the scratch database ${scratch} to verify the backup: ${(error as Error).message}`, {
      hint: 'verification restores the copy into a scratch database: grant the role CREATEDB (`ALTER ROLE … CREATEDB`)',
    }, { cause: error })
  }
}

function scratchUrl(url: DatabaseUrl, scratch: string): DatabaseUrl {
  const parsed = new URL(url.raw)
  parsed.pathname = `/${encodeURIComponent(scratch)}`
  const raw = parsed.toString()
  return { dialect: 'postgres', raw, redacted: redact(raw) }
}

// ——— restore ———

/**
 * Replaces the scope with the copy in one transaction: psql runs a preamble that drops the
 * scoped schemas (so objects made after the backup go too), then the copy's SQL as
 * `pg_restore -f -` streams it, and gets COMMIT only after pg_restore has exited cleanly. Any
 * failure (a statement, a lock timeout, a damaged file, a killed process) ends the session
 * without COMMIT, so the server rolls everything back.
 *
 * The lock timeout covers the drops, which take every lock on the existing tables; the copy's
 * own header then sets `lock_timeout = 0`, but what it creates is new and locked by nobody else.
 */
async function restoreCopy(url: DatabaseUrl, file: string, lockTimeoutMs: number): Promise<void> {
  await findProgram(['pg_restore'])
  await findProgram(['psql'])
  const scope = scopeOf(url)
  const toc = withoutPublicSchema(await readToc(url, file))
  const { schema } = scope
  if (schema !== null) await withSession(url, (conn) => refuseOutsideDependents(conn, schema))
  const preamble = restorePreamble(scope, toc?.owner ?? 'pg_database_owner', lockTimeoutMs)
  await withList(toc?.list, (listArgs) => pipeRestore(['--file=-', ...listArgs, file], preamble, postgresClientEnv(url))).catch((error: unknown) => {
    if (error instanceof StrataError) throw error
    throw new StrataError('E_BACKUP', `restoring ${file} failed, and the database is unchanged: ${(error as Error).message}`, {
      file,
      hint: /lock timeout/.test((error as Error).message)
        ? 'another session holds locks on the tables being restored: find it in pg_stat_activity, end it, and restore again'
        : 'nothing was changed (the restore runs in one transaction); read the message above, fix its cause, and restore again',
    }, { cause: error })
  })
}

/**
 * The copy's `SCHEMA public` entry taken out of its table of contents, with the owner it names:
 * `public` always exists where the copy is restored (the preamble, a fresh database), so the
 * entry's CREATE SCHEMA (in `-n public` copies) would fail. Null when the copy has no such entry.
 */
function withoutPublicSchema(toc: string): { readonly list: string; readonly owner: string } | null {
  const lines = toc.split('\n')
  // `<id>; 2615 <oid> SCHEMA - public <owner>`: 2615 is pg_namespace, so only schema entries match.
  const entry = /^\d+; 2615 \d+ SCHEMA - public (\S+)$/
  const index = lines.findIndex((line) => entry.test(line))
  if (index < 0) return null
  const owner = entry.exec(lines[index]!)![1]!
  return { list: lines.filter((_, i) => i !== index).join('\n'), owner }
}

/** Runs `fn` with `--use-list=FILE` arguments for `list` (in a private temp directory), or none. */
async function withList<T>(list: string | undefined, fn: (listArgs: string[]) => Promise<T>): Promise<T> {
  if (list === undefined) return fn([])
  const dir = await mkdtemp(join(tmpdir(), 'strata-restore-'))
  try {
    const path = join(dir, 'toc.list')
    await writeFile(path, list, { mode: 0o600 })
    return await fn([`--use-list=${path}`])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

// ——— sessions ———

async function withSession<T>(url: DatabaseUrl, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await openPostgres(url, { create: false })
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

/**
 * Runs `fn` in one REPEATABLE READ snapshot, so all counts are of the same moment. Row security
 * is off: a policy hiding rows makes the count fail rather than come out short.
 */
async function inSnapshot<T>(conn: Connection, fn: () => Promise<T>): Promise<T> {
  await conn.execute({ sql: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', params: [] })
  try {
    await conn.execute({ sql: 'SET LOCAL row_security = off', params: [] })
    const result = await fn()
    await conn.execute({ sql: 'COMMIT', params: [] })
    return result
  } catch (error) {
    await conn.execute({ sql: 'ROLLBACK', params: [] }).catch(() => {})
    throw error
  }
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
