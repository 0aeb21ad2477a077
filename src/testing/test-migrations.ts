import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { affectedBy, tablesInSql } from '../checks/affected.js'
import type { Connection } from '../dialects/dialect.js'
import { isStrataError } from '../errors/index.js'
import type { Direction } from '../events/events.js'
import { StrataEmitter } from '../events/events.js'
import { HistoryStore } from '../history/history-store.js'
import type { MigrationDef } from '../loader/migration.js'
import type { Operation } from '../ops/operation.js'
import type { Project } from '../pipeline/session.js'
import { phaseStep } from '../plan/phases.js'
import type { Plan, PlanStep } from '../plan/plan.js'
import { executeMigration } from '../runner/execute-migration.js'
import { runPlan } from '../runner/run-plan.js'
import { diffSchemas, type SchemaChange } from '../schema/diff.js'
import type { SchemaSnapshot } from '../schema/snapshot.js'
import { splitStatements } from '../sql/split.js'
import { createScratch } from './scratch.js'
import { textRow } from '../checks/table-digest.js'

/** What a failed check says, and about which revision (null for the graph). */
export interface TestFailure {
  readonly revision: string | null
  /** `graph`, `migration` (up or down threw), `round-trip` (schema), `untouched` (contents), `fixtures`. */
  readonly check: 'graph' | 'migration' | 'round-trip' | 'untouched' | 'fixtures'
  readonly message: string
  /** Schema objects that differ, for round-trip failures (SPEC S4 drift shape). */
  readonly objects?: readonly SchemaChange[]
}

export interface RevisionResult {
  readonly revision: string
  readonly ok: boolean
  readonly durationMs: number
  /** What was checked: `up`, `down`, `up again`, `fixtures: N rows`; `no down` when it has none. */
  readonly notes: readonly string[]
}

/** `strata test --json` and `testMigrations()` (SPEC S6). */
export interface TestReport {
  readonly ok: boolean
  readonly dialect: string
  /** The scratch database the migrations ran on (credentials masked); never the configured one. */
  readonly scratch: string
  readonly revisions: readonly RevisionResult[]
  readonly failures: readonly TestFailure[]
}

const TEST_RUN = 'strata-test'
const BY = 'strata test'

/**
 * Runs every migration on a scratch database (SPEC S6): the graph has one head; each migration,
 * in order, goes up, down and up again, and its schema snapshots must match (after down, the
 * schema before it; after up again, the schema after the first up); tables it does not touch
 * keep their exact contents; fixture rows (`fixtures/<revision>.sql`, or the migration's
 * `seed(op)`) loaded after a migration must survive every later up and down.
 */
export async function runMigrationTests(project: Project): Promise<TestReport> {
  const failures: TestFailure[] = []
  const revisions: RevisionResult[] = []
  const { graph, dialect } = project
  if (graph.heads.length > 1) {
    failures.push({ revision: null, check: 'graph', message: `the graph has ${graph.heads.length} heads (${graph.heads.join(', ')}); add a merge migration` })
  }
  const scratch = await createScratch(dialect, project.config.url)
  try {
    const conn = await dialect.connect(scratch.url)
    try {
      const tester = new RoundTrips(project, conn)
      await tester.prepare()
      for (const revision of graph.ordered) {
        const { result, stop } = await tester.test(project.migrations.get(revision)!, failures)
        revisions.push(result)
        if (stop) break
      }
    } finally {
      await conn.close()
    }
  } finally {
    await scratch.drop().catch(() => {})
  }
  return { ok: failures.length === 0, dialect: dialect.name, scratch: scratch.url.redacted, revisions, failures }
}

/** The database as the checks compare it: schema and each table's rows (sorted, as text). */
interface Picture {
  readonly schema: SchemaSnapshot
  readonly contents: ReadonlyMap<string, readonly string[]>
}

/** Rows loaded as fixtures, per table, with the columns they had then. */
type Fixtures = Map<string, Array<Record<string, string>>>

class RoundTrips {
  readonly #fixtures: Fixtures = new Map()
  readonly #history: HistoryStore
  readonly #events = new StrataEmitter()
  readonly #applied = new Set<string>()

  constructor(readonly project: Project, readonly conn: Connection) {
    this.#history = new HistoryStore(project.dialect, project.config.tablePrefix)
  }

  async prepare(): Promise<void> {
    await this.#history.ensureTables(this.conn)
  }

  /** Tests one migration; `stop` when the scratch database is no longer where later ones start. */
  async test(migration: MigrationDef, failures: TestFailure[]): Promise<{ result: RevisionResult; stop: boolean }> {
    const started = performance.now()
    const { revision } = migration
    const count = failures.length
    const fail = (check: TestFailure['check'], message: string, objects?: readonly SchemaChange[]): void => {
      failures.push({ revision, check, message, ...(objects && objects.length > 0 ? { objects } : {}) })
    }
    const notes: string[] = []
    const done = (stop = false): { result: RevisionResult; stop: boolean } => ({
      result: { revision, ok: failures.length === count, durationMs: Math.round(performance.now() - started), notes },
      stop,
    })

    // An expand/contract migration (SPEC S7) goes expand, abort, expand again, then contract.
    const { phases } = migration
    const forward: PlanStep = phases ? phaseStep(migration, 'expand') : { revision, direction: 'up', migration }
    const backward: PlanStep | null = phases ? phaseStep(migration, 'abort') : migration.down ? { revision, direction: 'down', migration } : null
    const [upName, downName] = phases ? ['expand', 'abort'] : ['up', 'down']

    const before = await this.#picture()
    const upOps = await this.#step(forward, fail)
    if (!upOps) return done(true)
    notes.push(upName)
    const afterUp = await this.#picture()
    this.#compareUntouched(before, afterUp, upOps, `${upName} of ${revision}`, fail)
    await this.#checkFixtures(`${upName} of ${revision}`, fail)

    if (!backward) {
      notes.push('no down: round trip not tested')
    } else {
      const downOps = await this.#step(backward, fail)
      if (!downOps) return done(true)
      notes.push(downName)
      const afterDown = await this.#picture()
      const undone = diffSchemas(before.schema, afterDown.schema)
      for (const change of undone) fail('round-trip', `${describeLeftover(change)} after ${downName} of ${revision}`, [change])
      this.#compareUntouched(before, afterDown, [...upOps, ...downOps], `${upName} and ${downName} of ${revision}`, fail)
      await this.#checkFixtures(`${downName} of ${revision}`, fail)
      if (undone.length > 0) {
        notes.push(`stopped: the ${downName} did not restore the schema, so later migrations cannot start from it`)
        return done(true)
      }

      const againOps = await this.#step(forward, fail)
      if (!againOps) return done(true)
      notes.push(`${upName} again`)
      const again = await this.#picture()
      for (const change of diffSchemas(afterUp.schema, again.schema)) {
        fail('round-trip', `${change.kind} ${change.name} differs between the first ${upName} of ${revision} and the ${upName} after its ${downName} (${change.change})`, [change])
      }
    }
    if (phases) {
      const contractOps = await this.#step(phaseStep(migration, 'contract'), fail)
      if (!contractOps) return done(true)
      notes.push('contract')
      this.#compareUntouched(afterUp, await this.#picture(), contractOps, `contract of ${revision}`, fail)
      await this.#checkFixtures(`contract of ${revision}`, fail)
    }
    const loaded = await this.#loadFixtures(migration, fail)
    if (loaded > 0) notes.push(`fixtures: ${loaded} row(s)`)
    return done()
  }

  /** Runs one step of a migration through the real runner; returns its ops, or null when it failed. */
  async #step(step: PlanStep, fail: (check: TestFailure['check'], message: string) => void): Promise<Operation[] | null> {
    const { migration, direction } = step
    const what = step.phase ?? direction
    const ops: Operation[] = []
    const plan: Plan = { direction, target: migration.revision, steps: [step], fromHeads: [], toHeads: [], held: [] }
    try {
      await runPlan(plan, {
        conn: this.conn, dialect: this.project.dialect, history: this.#history, events: this.#events, runId: TEST_RUN, by: BY,
        singleTransaction: false, onFailure: 'stop', tablePrefix: this.project.config.tablePrefix,
        onOps: (_r, _d, recorded) => ops.push(...recorded),
      })
    } catch (error) {
      fail('migration', `${what} of ${migration.revision} failed: ${isStrataError(error) || error instanceof Error ? error.message : String(error)}`)
      return null
    }
    if (direction === 'up') this.#applied.add(migration.revision)
    else this.#applied.delete(migration.revision)
    return ops
  }

  #compareUntouched(before: Picture, after: Picture, ops: readonly Operation[], when: string, fail: (check: TestFailure['check'], message: string) => void): void {
    const affected = affectedBy(ops, this.project.dialect.name)
    if (affected.unknown.length > 0) return
    const touched = new Set([...affected.tables].map((t) => t.toLowerCase()))
    for (const [table, rows] of before.contents) {
      if (touched.has(table.toLowerCase())) continue
      const now = after.contents.get(table)
      if (now && !sameRows(rows, now)) fail('untouched', `table ${table} changed during the ${when}, which does not touch it (${rows.length} row(s) before, ${now.length} after)`)
    }
  }

  /** Every fixture row must still be there, on the columns its table still has. */
  async #checkFixtures(when: string, fail: (check: TestFailure['check'], message: string) => void): Promise<void> {
    if (this.#fixtures.size === 0) return
    const schema = await this.project.dialect.introspect(this.conn, this.project.config.tablePrefix)
    for (const [table, rows] of this.#fixtures) {
      if (!schema.tables.some((t) => t.name === table)) continue
      const current = (await this.#rows(table)).map(textRow)
      const missing = rows.filter((row) => !current.some((c) => Object.keys(row).every((k) => !(k in c) || c[k] === row[k])))
      if (missing.length > 0) fail('fixtures', `${missing.length} fixture row(s) of ${table} are gone after the ${when}`)
    }
  }

  /** Loads `fixtures/<revision>.sql` and runs `seed(op)`; remembers the rows they added. */
  async #loadFixtures(migration: MigrationDef, fail: (check: TestFailure['check'], message: string) => void): Promise<number> {
    const file = join(this.project.config.baseDir, 'fixtures', `${migration.revision}.sql`)
    const tables = new Set<string>()
    const before = new Map<string, number>()
    const countBefore = async (names: Iterable<string>): Promise<void> => {
      for (const name of names) if (!before.has(name)) before.set(name, (await this.#rows(name).catch(() => [])).length)
    }
    try {
      if (existsSync(file)) {
        const statements = splitStatements(readFileSync(file, 'utf8'), this.project.dialect.name, { file })
        for (const s of statements) for (const t of tablesInSql(s.sql, this.project.dialect.name).tables) tables.add(t)
        await countBefore(tables)
        await this.conn.transaction(async (tx) => {
          for (const s of statements) await tx.execute({ sql: s.sql, params: [] })
        })
      }
      if (migration.seed) {
        const seeded: MigrationDef = { ...migration, up: migration.seed }
        const { sql: _sql, ...withoutSql } = seeded
        const execution = await this.conn.transaction((tx) => executeMigration(withoutSql, 'up', { conn: tx, dialect: this.project.dialect, events: this.#events, runId: TEST_RUN }))
        for (const t of affectedBy(execution.ops, this.project.dialect.name).tables) tables.add(t)
      }
    } catch (error) {
      fail('fixtures', `loading the fixtures of ${migration.revision} failed: ${error instanceof Error ? error.message : String(error)}`)
      return 0
    }
    let loaded = 0
    for (const table of tables) {
      const rows = (await this.#rows(table).catch(() => [])).map(textRow)
      const fresh = rows.slice(before.get(table) ?? 0)
      if (fresh.length === 0) continue
      this.#fixtures.set(table, [...(this.#fixtures.get(table) ?? []), ...fresh])
      loaded += fresh.length
    }
    return loaded
  }

  async #picture(): Promise<Picture> {
    const schema = await this.project.dialect.introspect(this.conn, this.project.config.tablePrefix)
    const contents = new Map<string, string[]>()
    for (const table of schema.tables) contents.set(table.name, (await this.#rows(table.name)).map((r) => JSON.stringify(textRow(r))).sort())
    return { schema, contents }
  }

  #rows(table: string): Promise<Record<string, unknown>[]> {
    return this.conn.query({ sql: `SELECT * FROM ${this.project.dialect.quoteIdentifier(table)}`, params: [] })
  }
}

function sameRows(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((row, i) => row === b[i])
}

/** "index graphics.idx_x still exists", "column graphics.y is missing", "table t differs". */
function describeLeftover(change: SchemaChange): string {
  if (change.change === 'added') return `${change.kind} ${change.name} still exists`
  if (change.change === 'removed') return `${change.kind} ${change.name} is missing`
  return `${change.kind} ${change.name} differs from before the up`
}
