import { redact, redactJson } from '../errors/redact.js'
import type { Connection, Dialect } from '../dialects/dialect.js'

export type RevisionState = 'applied' | 'expanded' | 'dirty'

/** One row of `<prefix>history`: a currently applied revision (SPEC S4). */
export interface AppliedRevision {
  readonly revision: string
  readonly checksum: string
  readonly checksumVersion: number
  readonly description: string
  readonly appliedAt: string
  readonly appliedBy: string
  readonly durationMs: number
  readonly runId: string
  readonly fingerprint: string | null
  readonly state: RevisionState
  readonly file: string | null
}

export type LogAction = 'apply' | 'revert' | 'repair' | 'stamp' | 'unstamp' | 'restore' | 'expand' | 'complete' | 'abort'

export interface LogEntry {
  readonly runId: string
  readonly revision: string
  readonly action: LogAction
  readonly by: string
  readonly checksum?: string | null
  readonly durationMs?: number | null
  readonly detail?: string | null
}

/** How far one op of an interrupted migration got. */
export interface Checkpoint {
  readonly state: 'done' | 'running'
  readonly lastKey: string | null
  readonly rowsDone: number
}

/** Raw rows of `runs` and `log`, carried across a restore. */
export interface Trail {
  readonly runs: readonly Record<string, unknown>[]
  readonly log: readonly Record<string, unknown>[]
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'refused' | 'rolled-back' | 'restored' | 'interrupted'

export interface RunRow {
  readonly runId: string
  readonly command: string
  readonly environment: string | null
  readonly fromRevisions: readonly string[]
  readonly toRevisions: readonly string[] | null
  readonly status: RunStatus
  readonly error: string | null
  readonly backupId: string | null
  readonly recordPath: string | null
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly by: string
  readonly report: unknown
}

/**
 * strata's own tables (prefix configurable, default `strata_`): `history` (one row per applied
 * revision), `log` (append-only), `runs` (every run). Portable column types only, so the same
 * DDL serves every dialect; every value is bound.
 */
export class HistoryStore {
  readonly #dialect: Dialect
  readonly #prefix: string

  constructor(dialect: Dialect, prefix: string) {
    this.#dialect = dialect
    this.#prefix = prefix
  }

  get tables(): { history: string; log: string; runs: string; checkpoints: string } {
    return { history: `${this.#prefix}history`, log: `${this.#prefix}log`, runs: `${this.#prefix}runs`, checkpoints: `${this.#prefix}checkpoints` }
  }

  #q(table: 'history' | 'log' | 'runs' | 'checkpoints'): string {
    return this.#dialect.quoteIdentifier(this.tables[table])
  }

  /** Creates the tables when missing. Called under the migration lock, outside a transaction. */
  async ensureTables(conn: Connection): Promise<void> {
    const text = 'text'
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${this.#q('history')} (
        revision varchar(255) NOT NULL PRIMARY KEY, checksum varchar(64) NOT NULL,
        checksum_version integer NOT NULL, description ${text}, applied_at varchar(40) NOT NULL,
        applied_by varchar(255) NOT NULL, duration_ms integer NOT NULL, run_id varchar(64) NOT NULL,
        fingerprint varchar(64), state varchar(16) NOT NULL, file ${text}, schema_snapshot ${text})`,
      `CREATE TABLE IF NOT EXISTS ${this.#q('log')} (
        seq ${this.#dialect.integerKeyType ?? 'bigint'} NOT NULL PRIMARY KEY, run_id varchar(64) NOT NULL,
        revision varchar(255) NOT NULL, action varchar(16) NOT NULL, at varchar(40) NOT NULL,
        by_user varchar(255) NOT NULL, checksum varchar(64), duration_ms integer, detail ${text})`,
      `CREATE TABLE IF NOT EXISTS ${this.#q('runs')} (
        run_id varchar(64) NOT NULL PRIMARY KEY, command varchar(64) NOT NULL, environment varchar(64),
        from_revisions ${text} NOT NULL, to_revisions ${text}, status varchar(16) NOT NULL, error ${text},
        backup_id varchar(128), record_path ${text}, started_at varchar(40) NOT NULL,
        finished_at varchar(40), by_user varchar(255) NOT NULL, report ${text})`,
      `CREATE TABLE IF NOT EXISTS ${this.#q('checkpoints')} (
        revision varchar(255) NOT NULL, op_index integer NOT NULL, state varchar(16) NOT NULL, last_key ${text},
        rows_done bigint NOT NULL, updated_at varchar(40) NOT NULL, PRIMARY KEY (revision, op_index))`,
    ]
    for (const sql of statements) await conn.execute({ sql, params: [] })
  }

  /** True when the history table exists (read-only commands never create it). */
  async exists(conn: Connection): Promise<boolean> {
    try {
      await conn.query({ sql: `SELECT revision FROM ${this.#q('history')} WHERE 1 = 0`, params: [] })
      return true
    } catch {
      return false
    }
  }

  async applied(conn: Connection): Promise<AppliedRevision[]> {
    if (!(await this.exists(conn))) return []
    const rows = await conn.query<Record<string, unknown>>({
      sql: `SELECT * FROM ${this.#q('history')} ORDER BY applied_at, revision`,
      params: [],
    })
    return rows.map((r) => ({
      revision: String(r['revision']),
      checksum: String(r['checksum']),
      checksumVersion: Number(r['checksum_version']),
      description: String(r['description'] ?? ''),
      appliedAt: String(r['applied_at']),
      appliedBy: String(r['applied_by']),
      durationMs: Number(r['duration_ms']),
      runId: String(r['run_id']),
      fingerprint: r['fingerprint'] == null ? null : String(r['fingerprint']),
      state: String(r['state']) as RevisionState,
      file: r['file'] == null ? null : String(r['file']),
    }))
  }

  /** Inside the migration's own transaction when the dialect has transactional DDL (STYLE 3.4). */
  async recordApplied(tx: Connection, entry: AppliedRevision): Promise<void> {
    await tx.execute({
      sql: `INSERT INTO ${this.#q('history')} (revision, checksum, checksum_version, description, applied_at,
        applied_by, duration_ms, run_id, fingerprint, state, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [
        entry.revision, entry.checksum, entry.checksumVersion, entry.description, entry.appliedAt,
        entry.appliedBy, entry.durationMs, entry.runId, entry.fingerprint, entry.state, entry.file,
      ],
    })
  }

  /** Inside the revert's own transaction; checks exactly one row went. */
  async recordReverted(tx: Connection, revision: string): Promise<void> {
    const { rowsAffected } = await tx.execute({ sql: `DELETE FROM ${this.#q('history')} WHERE revision = ?`, params: [revision] })
    if (rowsAffected !== 1) throw new Error(`expected one history row for ${revision}, found ${rowsAffected}`)
  }

  async updateChecksum(conn: Connection, revision: string, checksum: string, checksumVersion: number, file: string | null): Promise<void> {
    await conn.execute({
      sql: `UPDATE ${this.#q('history')} SET checksum = ?, checksum_version = ?, file = ? WHERE revision = ?`,
      params: [checksum, checksumVersion, file, revision],
    })
  }

  /** Stores the schema as it stands after `revision` was applied (for drift reports). */
  async setFingerprint(conn: Connection, revision: string, value: string, snapshotJson: string): Promise<void> {
    await conn.execute({
      sql: `UPDATE ${this.#q('history')} SET fingerprint = ?, schema_snapshot = ? WHERE revision = ?`,
      params: [value, snapshotJson, revision],
    })
  }

  /** The schema snapshot stored with `revision`, or null. */
  async snapshotOf(conn: Connection, revision: string): Promise<string | null> {
    const rows = await conn.query<{ schema_snapshot: string | null }>({
      sql: `SELECT schema_snapshot FROM ${this.#q('history')} WHERE revision = ?`,
      params: [revision],
    })
    return rows[0]?.schema_snapshot ?? null
  }

  async setState(conn: Connection, revision: string, state: RevisionState, durationMs?: number): Promise<void> {
    if (durationMs === undefined) {
      await conn.execute({ sql: `UPDATE ${this.#q('history')} SET state = ? WHERE revision = ?`, params: [state, revision] })
    } else {
      await conn.execute({ sql: `UPDATE ${this.#q('history')} SET state = ?, duration_ms = ? WHERE revision = ?`, params: [state, durationMs, revision] })
    }
  }

  /** Removes a revision's row outside a migration (repair of a missing file, stamp down). */
  async remove(conn: Connection, revision: string): Promise<void> {
    await conn.execute({ sql: `DELETE FROM ${this.#q('history')} WHERE revision = ?`, params: [revision] })
  }

  async log(conn: Connection, entry: LogEntry): Promise<void> {
    const log = this.#q('log')
    const columns = `${log} (seq, run_id, revision, action, at, by_user, checksum, duration_ms, detail)`
    await conn.execute({
      // The next number in the log, taken under the migration lock: a gap-free order of events.
      // SQLite copies what an INSERT … SELECT reads from its own table into a temporary table
      // first; a scalar subquery reads the maximum straight from the key (some 4 µs less a
      // migration). MySQL refuses that subquery on the table being inserted into.
      sql: this.#dialect.name === 'sqlite'
        ? `INSERT INTO ${columns} VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM ${log}), ?, ?, ?, ?, ?, ?, ?, ?)`
        : `INSERT INTO ${columns} SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? FROM ${log}`,
      params: [
        entry.runId, entry.revision, entry.action, new Date().toISOString(), entry.by,
        entry.checksum ?? null, entry.durationMs ?? null, entry.detail ?? null,
      ],
    })
  }

  async logEntries(conn: Connection): Promise<Array<LogEntry & { at: string }>> {
    if (!(await this.exists(conn))) return []
    const rows = await conn.query<Record<string, unknown>>({ sql: `SELECT * FROM ${this.#q('log')} ORDER BY seq`, params: [] })
    return rows.map((r) => ({
      runId: String(r['run_id']),
      revision: String(r['revision']),
      action: String(r['action']) as LogAction,
      at: String(r['at']),
      by: String(r['by_user']),
      checksum: r['checksum'] == null ? null : String(r['checksum']),
      durationMs: r['duration_ms'] == null ? null : Number(r['duration_ms']),
      detail: r['detail'] == null ? null : String(r['detail']),
    }))
  }

  /**
   * The append-only trail (`runs` and `log` rows, as stored), read before a restore so that
   * runs recorded after the backup was taken survive it (SPEC S4: every run, append-only log).
   */
  async readTrail(conn: Connection): Promise<Trail> {
    if (!(await this.exists(conn))) return { runs: [], log: [] }
    return {
      runs: await conn.query({ sql: `SELECT * FROM ${this.#q('runs')}`, params: [] }),
      log: await conn.query({ sql: `SELECT * FROM ${this.#q('log')}`, params: [] }),
    }
  }

  /** Writes back the trail rows a restore removed (those whose key is missing now). */
  async restoreTrail(conn: Connection, trail: Trail): Promise<void> {
    await this.ensureTables(conn)
    const put = async (tx: Connection, table: 'runs' | 'log', key: string, rows: readonly Record<string, unknown>[]): Promise<void> => {
      const present = new Set((await tx.query<Record<string, unknown>>({ sql: `SELECT ${key} FROM ${this.#q(table)}`, params: [] })).map((r) => String(r[key])))
      for (const row of rows) {
        if (present.has(String(row[key]))) continue
        const columns = Object.keys(row)
        await tx.execute({
          sql: `INSERT INTO ${this.#q(table)} (${columns.map((c) => this.#dialect.quoteIdentifier(c)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
          params: columns.map((c) => row[c]),
        })
      }
    }
    await conn.transaction(async (tx) => {
      await put(tx, 'runs', 'run_id', trail.runs)
      await put(tx, 'log', 'seq', trail.log)
    })
  }

  /**
   * The progress of an interrupted non-transactional migration (SPEC S7): per op index, `done`
   * or, for a backfill, `running` with the last committed key. Empty when there is none (or no
   * checkpoints table yet).
   */
  async checkpoints(conn: Connection, revision: string): Promise<Map<number, Checkpoint>> {
    let rows: Array<{ op_index: number | string; state: string; last_key: string | null; rows_done: number | string }>
    try {
      rows = await conn.query({ sql: `SELECT op_index, state, last_key, rows_done FROM ${this.#q('checkpoints')} WHERE revision = ?`, params: [revision] })
    } catch {
      return new Map()
    }
    return new Map(rows.map((r) => [Number(r.op_index), { state: r.state === 'done' ? 'done' : 'running', lastKey: r.last_key, rowsDone: Number(r.rows_done) }]))
  }

  /** The revisions with checkpoints: interrupted migrations the next `up` resumes. */
  async resumable(conn: Connection): Promise<Set<string>> {
    try {
      const rows = await conn.query<{ revision: string }>({ sql: `SELECT DISTINCT revision FROM ${this.#q('checkpoints')}`, params: [] })
      return new Set(rows.map((r) => r.revision))
    } catch {
      return new Set()
    }
  }

  /** Records a committed backfill batch; inside the batch's transaction, so both commit together. */
  async saveCheckpoint(conn: Connection, revision: string, opIndex: number, lastKey: string, rowsDone: number): Promise<void> {
    await this.#putCheckpoint(conn, revision, opIndex, 'running', lastKey, rowsDone)
  }

  /**
   * Records that op `opIndex` of an interrupted-able migration has committed. `described` (the
   * op as `describeOp` names it) is kept in `last_key`, which a done op has no other use for, so
   * a resumed run can tell whether the file still has the same op there.
   */
  async markOpDone(conn: Connection, revision: string, opIndex: number, described: string | null = null): Promise<void> {
    await this.#putCheckpoint(conn, revision, opIndex, 'done', described, 0)
  }

  async #putCheckpoint(conn: Connection, revision: string, opIndex: number, state: string, lastKey: string | null, rowsDone: number): Promise<void> {
    await conn.execute({ sql: `DELETE FROM ${this.#q('checkpoints')} WHERE revision = ? AND op_index = ?`, params: [revision, opIndex] })
    await conn.execute({
      sql: `INSERT INTO ${this.#q('checkpoints')} (revision, op_index, state, last_key, rows_done, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
      params: [revision, opIndex, state, lastKey, rowsDone, new Date().toISOString()],
    })
  }

  /** Forgets a migration's checkpoints once it has finished. */
  async clearCheckpoints(conn: Connection, revision: string): Promise<void> {
    await conn.execute({ sql: `DELETE FROM ${this.#q('checkpoints')} WHERE revision = ?`, params: [revision] })
  }

  /** True when the run's row exists (a restore may have replaced the table with an older one). */
  async hasRun(conn: Connection, runId: string): Promise<boolean> {
    const rows = await conn.query({ sql: `SELECT 1 AS one FROM ${this.#q('runs')} WHERE run_id = ?`, params: [runId] })
    return rows.length > 0
  }

  async startRun(conn: Connection, run: Omit<RunRow, 'status' | 'finishedAt' | 'error' | 'report' | 'toRevisions' | 'recordPath' | 'backupId'> & { toRevisions?: readonly string[] | null }): Promise<void> {
    await conn.execute({
      sql: `INSERT INTO ${this.#q('runs')} (run_id, command, environment, from_revisions, to_revisions, status, started_at, by_user)
        VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
      params: [run.runId, run.command, run.environment, JSON.stringify(run.fromRevisions), run.toRevisions ? JSON.stringify(run.toRevisions) : null, run.startedAt, run.by],
    })
  }

  async finishRun(conn: Connection, runId: string, outcome: { status: RunStatus; toRevisions: readonly string[]; error?: string | null; report?: unknown; recordPath?: string | null; backupId?: string | null }): Promise<void> {
    await conn.execute({
      sql: `UPDATE ${this.#q('runs')} SET status = ?, to_revisions = ?, error = ?, report = ?, record_path = ?, backup_id = ?, finished_at = ? WHERE run_id = ?`,
      params: [
        outcome.status, JSON.stringify(outcome.toRevisions), outcome.error == null ? null : redact(outcome.error),
        outcome.report === undefined ? null : redactJson(outcome.report).json, outcome.recordPath ?? null,
        outcome.backupId ?? null, new Date().toISOString(), runId,
      ],
    })
  }

  /** Merges `extra` into a run's recorded report (a JSON object). */
  async annotateRun(conn: Connection, runId: string, extra: Record<string, unknown>): Promise<void> {
    const rows = await conn.query<{ report: string | null }>({ sql: `SELECT report FROM ${this.#q('runs')} WHERE run_id = ?`, params: [runId] })
    if (rows.length === 0) return
    const current = rows[0]!.report ? (JSON.parse(rows[0]!.report) as Record<string, unknown>) : {}
    await conn.execute({ sql: `UPDATE ${this.#q('runs')} SET report = ? WHERE run_id = ?`, params: [redactJson({ ...current, ...extra }).json, runId] })
  }

  /**
   * Closes run rows left `running` by a process that died (kill -9, power loss). Called under
   * the migration lock, so no live run can own such a row. Returns the run ids closed.
   */
  async closeInterrupted(conn: Connection): Promise<string[]> {
    const rows = await conn.query<{ run_id: string }>({ sql: `SELECT run_id FROM ${this.#q('runs')} WHERE status = 'running'`, params: [] })
    if (rows.length === 0) return []
    await conn.execute({
      sql: `UPDATE ${this.#q('runs')} SET status = 'interrupted', finished_at = ?, error = ? WHERE status = 'running'`,
      params: [new Date().toISOString(), 'the process running it ended without finishing (killed or crashed)'],
    })
    return rows.map((r) => r.run_id)
  }

  async runs(conn: Connection): Promise<RunRow[]> {
    if (!(await this.exists(conn))) return []
    const rows = await conn.query<Record<string, unknown>>({ sql: `SELECT * FROM ${this.#q('runs')} ORDER BY started_at, run_id`, params: [] })
    return rows.map((r) => ({
      runId: String(r['run_id']),
      command: String(r['command']),
      environment: r['environment'] == null ? null : String(r['environment']),
      fromRevisions: JSON.parse(String(r['from_revisions'])) as string[],
      toRevisions: r['to_revisions'] == null ? null : (JSON.parse(String(r['to_revisions'])) as string[]),
      status: String(r['status']) as RunStatus,
      error: r['error'] == null ? null : String(r['error']),
      backupId: r['backup_id'] == null ? null : String(r['backup_id']),
      recordPath: r['record_path'] == null ? null : String(r['record_path']),
      startedAt: String(r['started_at']),
      finishedAt: r['finished_at'] == null ? null : String(r['finished_at']),
      by: String(r['by_user']),
      report: r['report'] == null ? null : (JSON.parse(String(r['report'])) as unknown),
    }))
  }
}

