import { spawn, type ChildProcess } from 'node:child_process'
import type { Connection } from '../../dialects/dialect.js'
import { StrataError } from '../../errors/index.js'
import { missingProgram } from '../programs.js'
import type { Scope } from './postgres-backup.js'

/**
 * The machinery of a PostgreSQL restore (SPEC S5): the check that refuses to drop what outside
 * a schema depends on it, the psql preamble that drops the scope, and the pg_restore → psql pipe
 * that commits only a complete copy. `restoreCopy` in `postgres-backup.ts` puts them together.
 */

/** Schemas of the server's own (`pg_catalog`, `pg_toast`, temp schemas, `information_schema`). */
export const USER_SCHEMAS = `nspname !~ '^pg_' AND nspname <> 'information_schema'`

/** pg_dump's baseline for `public` (template0's state): the dump records only differences from it. */
const PUBLIC_COMMENT = 'standard public schema'

/**
 * Dropping a schema CASCADE also drops whatever outside it depends on it (a view, a foreign key,
 * a column of its enum type, a trigger calling its function), which the copy of that schema
 * cannot bring back: such a restore is refused before anything changes.
 */
export async function refuseOutsideDependents(conn: Connection, schema: string): Promise<void> {
  const rows = await conn.query<{ object: string }>({ sql: OUTSIDE_DEPENDENTS, params: [schema, schema] })
  if (rows.length === 0) return
  throw new StrataError('E_BACKUP', `restoring schema "${schema}" would also drop objects outside it that depend on it: ${rows.map((row) => row.object).join('; ')}`, {
    hint: 'drop those objects first (and recreate them after the restore), or back up and restore the whole database (a URL without ?schema=)',
  })
}

/**
 * Objects outside schema `?` that depend on objects in it. pg_identify_object names the schema
 * (quoted) of most objects; rules, defaults, triggers and policies belong to their table's.
 */
const OUTSIDE_DEPENDENTS = `
  SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS object FROM pg_depend d
  CROSS JOIN LATERAL pg_identify_object(d.refclassid, d.refobjid, 0) referenced
  CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) dependent
  LEFT JOIN pg_rewrite rw ON d.classid = 'pg_rewrite'::regclass AND rw.oid = d.objid
  LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
  LEFT JOIN pg_trigger tg ON d.classid = 'pg_trigger'::regclass AND tg.oid = d.objid
  LEFT JOIN pg_policy po ON d.classid = 'pg_policy'::regclass AND po.oid = d.objid
  LEFT JOIN pg_class owner ON owner.oid = coalesce(rw.ev_class, ad.adrelid, tg.tgrelid, po.polrelid)
  LEFT JOIN pg_namespace owner_schema ON owner_schema.oid = owner.relnamespace
  WHERE d.deptype IN ('n', 'a') AND referenced.schema = quote_ident(?)
    AND coalesce(dependent.schema, quote_ident(owner_schema.nspname)) IS DISTINCT FROM quote_ident(?)
  ORDER BY 1`

/**
 * The SQL before the copy's: drop the scope, and recreate `public` as template0 has it, since
 * pg_dump writes only how `public` differs from that (owner, grants, comment) and never creates
 * it in a whole-database copy.
 */
export function restorePreamble(scope: Scope, publicOwner: string, lockTimeoutMs: number): string {
  const lines = ['BEGIN;', `SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))};`, 'SET LOCAL client_min_messages = warning;']
  if (scope.schema === null) {
    lines.push(`DO $strata$ DECLARE s name; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE ${USER_SCHEMAS} LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $strata$;`)
  } else {
    lines.push(`DROP SCHEMA IF EXISTS ${quote(scope.schema)} CASCADE;`)
  }
  if (scope.home === 'public') {
    lines.push(
      `CREATE SCHEMA public AUTHORIZATION ${quote(publicOwner)};`,
      'GRANT USAGE ON SCHEMA public TO PUBLIC;',
      `COMMENT ON SCHEMA public IS ${literal(PUBLIC_COMMENT)};`,
    )
  }
  return `${lines.join('\n')}\n`
}

/**
 * `pg_restore ARGS | psql`, with `preamble` first and COMMIT last, only when pg_restore
 * succeeded: a pg_restore that dies part-way (a damaged file) must not let psql commit the
 * statements it already ran, which a plain pipe and `psql --single-transaction` would do.
 */
export async function pipeRestore(restoreArgs: readonly string[], preamble: string, env: Record<string, string>): Promise<void> {
  const psqlArgs = ['--no-psqlrc', '--quiet', '--no-password', '--set=ON_ERROR_STOP=1', '--file=-']
  const psql = spawn('psql', psqlArgs, { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'] })
  const applied = finished(psql, 'psql')
  const restore = spawn('pg_restore', restoreArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const read = finished(restore, 'pg_restore')
  // Whichever program fails first is the one to report; the other is stopped by us.
  let stoppedRestore = false
  let stoppedPsql = false
  // A psql that failed (a lock timeout) reads no more: pg_restore, blocked on a full pipe, is
  // drained and killed outright (a signal it may catch could leave it blocked in its write).
  const stopRestore = (): void => {
    restore.stdout?.unpipe()
    restore.stdout?.resume()
    restore.kill('SIGKILL')
  }
  applied.then((result) => {
    if (result.code === 0 || stoppedPsql) return
    stoppedRestore = true
    stopRestore()
  }, stopRestore)
  read.catch(() => psql.kill('SIGKILL'))
  psql.stdin!.on('error', () => {}) // psql stopped early: its exit status says why
  psql.stdin!.write(preamble)
  restore.stdout!.pipe(psql.stdin!, { end: false })
  const dumped = await read
  if (dumped.code === 0) {
    psql.stdin!.end('\nCOMMIT;\n')
  } else {
    stoppedPsql = true
    psql.kill('SIGKILL')
  }
  const result = await applied
  if (dumped.code !== 0 && !stoppedRestore) throw failure('pg_restore', dumped)
  if (result.code !== 0) throw failure('psql', result)
}

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** A child's exit and the tail of its stderr; a missing program is the usual E_BACKUP naming it. */
function finished(child: ChildProcess, program: string): Promise<Exit> {
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8000)
  })
  return new Promise((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingProgram(program) : new StrataError('E_BACKUP', `cannot run ${program}: ${error.message}`, {}, { cause: error }))
    })
    child.on('close', (code, signal) => resolve({ code, signal, stderr }))
  })
}

function failure(program: string, exit: Exit): Error {
  const tail = exit.stderr.trim().split('\n').slice(-6).join('\n')
  return new Error(`${program} ${exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`}${tail ? `: ${tail}` : ''}`)
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
