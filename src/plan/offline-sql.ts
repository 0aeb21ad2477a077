import type { Connection, Dialect, Statement } from '../dialects/dialect.js'
import { renderLiteral, STANDARD_LITERALS } from '../dialects/shared/literals.js'
import { StrataError, isStrataError } from '../errors/index.js'
import { StrataEmitter, type Direction } from '../events/events.js'
import type { RevisionGraph } from '../graph/index.js'
import { HistoryStore } from '../history/history-store.js'
import type { MigrationDef } from '../loader/migration.js'
import type { Value } from '../ops/operation.js'
import { runPlan } from '../runner/run-plan.js'
import { canonicalJson } from '../schema/fingerprint.js'
import { inlineParams, openCommentAtEnd } from '../sql/placeholders.js'
import { phaseStep } from './phases.js'
import { buildPlan, type Plan, type PlanStep } from './plan.js'

export interface OfflineOptions {
  readonly direction: Direction
  readonly target: string
  /** The revision the database is assumed to be at (default: nothing applied for up). */
  readonly from?: string
  /** The prefix of strata's own tables (config `table_prefix`); default `strata_`. */
  readonly tablePrefix?: string
}

/** The run id and `applied_by` the printed history rows carry. */
const RUN_ID = 'plan-sql'
const BY = 'strata plan --sql'

const READS_NOTE = '-- note: this migration reads the database (op.query); the statements below were computed on an empty scratch database'

/**
 * `plan --sql` (SPEC S4): the SQL that `up`/`down` would run, without connecting to the
 * configured database. Embedded engines run the real runner on a scratch in-memory database
 * and print every statement it executes: the migrations' own (values written inline as
 * literals), strata's history writes, and each transaction framed as the connection frames it
 * (`Dialect.scriptFraming`), so the script leaves the database and its history as `up` would.
 *
 * After each migration the scratch database's user tables are emptied, so a later migration
 * compiles against the schema alone: the rows the migrations inserted are not the rows the real
 * database holds (a table rebuild's copy could fail on them where `up` succeeds). A migration
 * that reads the database (`op.query`) gets a note saying its statements came from empty tables.
 */
export async function renderOfflineSql(
  dialect: Dialect,
  graph: RevisionGraph,
  migrations: ReadonlyMap<string, MigrationDef>,
  options: OfflineOptions,
): Promise<string> {
  if (!dialect.capabilities.embedded) {
    throw new StrataError('E_OFFLINE', `offline SQL is not available for ${dialect.name} yet`, {})
  }
  const tablePrefix = options.tablePrefix ?? 'strata_'
  const scratch = await dialect.connect({ dialect: dialect.name, raw: `${dialect.name}::memory:`, redacted: `${dialect.name}::memory:`, path: ':memory:' })
  const framing = dialect.scriptFraming ?? { begin: ['BEGIN;'], commit: ['COMMIT;'] }
  const script = new ScriptConnection(scratch, framing)
  // The runner's dialect reads table definitions past the script connection, so that every
  // query the script connection sees during a migration is the migration's own `op.query`.
  const runnerDialect: Dialect = { ...dialect, inspectTables: (conn, names) => dialect.inspectTables(ScriptConnection.unwrap(conn), names) }
  const history = new HistoryStore(dialect, tablePrefix)
  const events = new StrataEmitter()
  const runStep = async (plan: Plan, step: PlanStep): Promise<void> => {
    try {
      await runPlan({ ...plan, steps: [step] }, {
        conn: script, dialect: runnerDialect, history, events, runId: RUN_ID, by: BY, singleTransaction: false, onFailure: 'stop', printing: true,
      })
    } catch (error) {
      throw scratchFailure(error)
    }
    await emptyUserTables(dialect, scratch, tablePrefix)
  }
  try {
    const out = script.lines
    const start = options.from ?? (options.direction === 'down' ? 'heads' : undefined)
    out.push(...header(options, start, framing))
    out.push('', "-- strata's own tables (kept when they exist)")
    await script.record(() => history.ensureTables(script))

    // The revisions the database is assumed to have: applied silently, history rows included.
    const applied = new Set<string>()
    if (start) {
      // Assumed applied means completed: an expand/contract revision's contract ran too.
      for (;;) {
        const prefix = buildPlan(graph, migrations, applied, 'up', start)
        if (prefix.steps.length === 0) break
        for (const step of prefix.steps) {
          await runStep(prefix, step)
          if (step.phase === 'expand') await runStep(prefix, phaseStep(step.migration, 'contract'))
          applied.add(step.revision)
        }
      }
    }

    const plan = buildPlan(graph, migrations, applied, options.direction, options.target)
    if (plan.steps.length === 0) out.push('', '-- nothing to do')
    const waiting = plan.held.map((h) => `${h.revision} (waits for \`strata complete ${h.waitsFor}\`)`)
    for (const step of plan.steps) {
      const { migration } = step
      out.push('', `-- ${step.revision} (${step.direction}) ${oneLine(migration.file.relativePath)}: ${oneLine(migration.description)}`)
      if (!migration.transactional && dialect.capabilities.transactionalDdl) out.push('-- not transactional: each op commits on its own')
      const noteAt = out.length
      if (step.phase === 'expand') out.push(`-- expand/contract: expand and backfill; the revision is left expanded until \`strata complete ${step.revision}\` runs its contract`)
      const queries = await script.record(() => runStep(plan, step))
      if (queries > 0) out.splice(noteAt, 0, READS_NOTE)
    }
    if (waiting.length > 0) out.push('', `-- not in this script: ${waiting.join(', ')}`)

    // As `up` does after a run: record the schema on the newest applied revision (drift baseline).
    if (plan.steps.length > 0) {
      const newest = options.direction === 'up' ? plan.steps.at(-1)?.revision : (await history.applied(scratch)).at(-1)?.revision
      if (newest !== undefined) {
        const snapshot = await dialect.introspect(scratch, tablePrefix)
        const catalog = await dialect.catalogFingerprint(scratch, tablePrefix)
        out.push('', `-- the schema after ${newest}, the baseline \`strata status\` compares with to report drift`)
        await script.record(() => history.setFingerprint(script, newest, catalog, canonicalJson(snapshot)))
      }
    }
    return `${out.join('\n')}\n`
  } finally {
    await scratch.close()
  }
}

/**
 * A failure on the scratch database, told as such: the runner's report (rolled back, partial,
 * dirty) is about the scratch database, not the user's, which was never opened.
 */
function scratchFailure(error: unknown): StrataError {
  const original = isStrataError(error) ? error : null
  const message = error instanceof Error ? error.message : String(error)
  const { report: _report, committed: _committed, exitCode: _exitCode, ...details } = original?.details ?? {}
  return new StrataError('E_MIGRATION_FAILED', `on the empty scratch database \`plan --sql\` runs the migrations on (yours was not opened): ${message}`, {
    ...details,
    hint: 'fix the migration; check --from if the database is at another revision',
  }, { cause: error })
}

function header(options: OfflineOptions, start: string | undefined, framing: NonNullable<Dialect['scriptFraming']>): string[] {
  const lines = [
    `-- strata plan --sql: ${options.direction} to ${oneLine(options.target)} (from ${oneLine(start ?? 'base')})`,
    '-- Computed without connecting to the database, by running the migrations on an empty scratch',
    "-- database: the statements `strata up`/`down` runs, strata's history writes included. The",
    '-- history rows carry the time this script was printed.',
    `-- Each transaction is framed as strata runs it: ${framing.begin.join(' ')} … ${framing.commit.join(' ')}`,
  ]
  if (framing.commit.some((s) => /foreign_key_check/i.test(s))) {
    lines.push(
      '-- `PRAGMA foreign_key_check` lists the rows that violate a foreign key but cannot abort a',
      '-- script (`strata up` rolls back when it lists any): check that it printed nothing.',
    )
  }
  return lines
}

/** Text safe inside a `--` comment line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ')
}

/**
 * A connection over the scratch database that writes down, while recording, every statement
 * executed through it (queries are only counted) and frames each outermost transaction with
 * the dialect's script framing. Statements run for real on the scratch database either way.
 */
class ScriptConnection implements Connection {
  readonly dialect: Connection['dialect']
  readonly lines: string[] = []
  readonly #framing: NonNullable<Dialect['scriptFraming']>
  /** The scratch connection, or the transaction open on it. */
  #conn: Connection
  #depth = 0
  #recording = false
  #queries = 0

  constructor(conn: Connection, framing: NonNullable<Dialect['scriptFraming']>) {
    this.dialect = conn.dialect
    this.#conn = conn
    this.#framing = framing
  }

  /** The connection under a script connection (the scratch one, or its open transaction). */
  static unwrap(conn: Connection): Connection {
    return conn instanceof ScriptConnection ? conn.#conn : conn
  }

  /** Runs `fn` writing down its statements; resolves to the number of queries it issued. */
  async record(fn: () => Promise<unknown>): Promise<number> {
    this.#recording = true
    this.#queries = 0
    try {
      await fn()
      return this.#queries
    } finally {
      this.#recording = false
    }
  }

  async execute(stmt: Statement): Promise<{ readonly rowsAffected: number }> {
    const result = await this.#conn.execute(stmt)
    if (this.#recording) this.lines.push(renderStatement(stmt))
    return result
  }

  async query<Row = Record<string, unknown>>(stmt: Statement): Promise<Row[]> {
    if (this.#recording) this.#queries++
    return this.#conn.query<Row>(stmt)
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    const framed = this.#recording && this.#depth === 0
    if (framed) this.lines.push(...this.#framing.begin)
    const outer = this.#conn
    const result = await outer.transaction(async (tx) => {
      this.#conn = tx
      this.#depth++
      try {
        return await fn(this)
      } finally {
        this.#depth--
        this.#conn = outer
      }
    })
    if (framed) this.lines.push(...this.#framing.commit)
    return result
  }

  async close(): Promise<void> {
    await this.#conn.close()
  }
}

/**
 * One statement as the script prints it: values written inline as literals, so it runs as
 * printed. When they cannot be (the placeholders do not match the values, or a value has no
 * literal form) the `?` form is kept with the values in a trailing comment, never a wrong
 * statement.
 */
export function renderStatement(stmt: Statement): string {
  const sql = stmt.sql.trim()
  if (stmt.params.length === 0) return terminate(sql)
  let inlined: string | undefined
  try {
    inlined = inlineParams(sql, stmt.params, scriptLiteral)
  } catch {
    inlined = undefined
  }
  return inlined !== undefined ? terminate(inlined) : `${terminate(sql)} -- params: ${JSON.stringify(stmt.params, jsonValue)}`
}

/**
 * A bound value as a literal. Only embedded engines (SQLite) print scripts, hence the standard
 * literal style (1/0 booleans, X'..' blobs). Negative numbers go in parentheses, so that
 * `a -?` cannot become the comment `a --1`. A string with a NUL character has no literal form
 * a script can carry.
 */
function scriptLiteral(value: unknown): string {
  if (typeof value === 'string' && value.includes('\0')) throw new Error('a NUL character cannot be written in a script')
  const text = renderLiteral(value as Value, STANDARD_LITERALS)
  return text.startsWith('-') ? `(${text})` : text
}

/** `sql;`, with the `;` out of any comment the statement ends in (it would swallow the `;`). */
function terminate(sql: string): string {
  const open = openCommentAtEnd(sql)
  return open === '--' ? `${sql}\n;` : open === '/*' ? `${sql} */;` : `${sql};`
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `x'${Buffer.from(value).toString('hex')}'`
  return value
}

/** Passes at most: a delete trigger may refill a table emptied before it. */
const EMPTYING_PASSES = 3
/** Tables probed per query (SQLite allows 500 terms in a compound SELECT). */
const PROBE_CHUNK = 250

/**
 * Deletes every row of every user table on the scratch database (strata's own tables kept), in
 * one transaction, so foreign keys neither cascade nor refuse. Only the tables that have rows are
 * touched: one query finds them. When a trigger refuses a delete the rows stay: the replay goes
 * on with them, as it would have without this step.
 */
async function emptyUserTables(dialect: Dialect, conn: Connection, tablePrefix: string): Promise<void> {
  const names = (await dialect.introspect(conn, tablePrefix)).tables.map((t) => dialect.quoteIdentifier(t.name))
  if (names.length === 0) return
  try {
    await conn.transaction(async (tx) => {
      for (let pass = 0; pass < EMPTYING_PASSES; pass++) {
        const full = await tablesWithRows(tx, names)
        if (full.length === 0) break
        for (const table of full) await tx.execute({ sql: `DELETE FROM ${table}`, params: [] })
      }
    })
  } catch {
    // Best effort (see above): the transaction rolled back, the rows are as the migration left them.
  }
}

/** The quoted table names among `names` whose table has at least one row. */
async function tablesWithRows(conn: Connection, names: readonly string[]): Promise<string[]> {
  const found: string[] = []
  for (let from = 0; from < names.length; from += PROBE_CHUNK) {
    const chunk = names.slice(from, from + PROBE_CHUNK)
    const sql = chunk.map((name, i) => `SELECT ${i} AS i WHERE EXISTS (SELECT 1 FROM ${name})`).join(' UNION ALL ')
    for (const row of await conn.query<{ i: number }>({ sql, params: [] })) found.push(chunk[Number(row.i)]!)
  }
  return found
}
