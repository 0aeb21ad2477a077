import type { CompileContext, Connection, Dialect, Statement, StatementSource } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import type { StrataEmitter } from '../events/events.js'
import type { MigrationDef } from '../loader/migration.js'
import { createOpBuilder } from '../ops/op-builder.js'
import type { OpOf, Operation } from '../ops/operation.js'
import { describeOp, isConcurrent } from '../ops/reverse.js'
import type { Direction } from '../events/events.js'

export interface ExecutedStatement {
  readonly sql: string
  readonly params: readonly unknown[]
  readonly source: StatementSource
}

export interface MigrationExecution {
  readonly ops: readonly Operation[]
  readonly statements: readonly ExecutedStatement[]
}

export interface ExecuteOptions {
  readonly conn: Connection
  readonly dialect: Dialect
  readonly events: StrataEmitter
  readonly runId: string
  /** Wraps each op's statements (non-transactional migrations commit op by op). */
  readonly perOp?: <T>(fn: (conn: Connection) => Promise<T>, op: Operation) => Promise<T>
  /** Called after each statement has executed (committed, for non-transactional runs). */
  readonly onStatement?: (statement: ExecutedStatement) => void
  /** Called before each op is compiled, on the connection it runs on (the statement journal reads the live tables). */
  readonly beforeOp?: (op: Operation, conn: Connection) => Promise<void>
  /** Called once each of an op's statements has executed. */
  readonly afterOp?: (op: Operation) => void
  /**
   * Runs `op.backfill` in checkpointed batches (SPEC S7). Absent (printed plans, test fixtures),
   * a backfill is compiled and run as its single-statement equivalent like any other op.
   */
  readonly backfill?: (op: OpOf<'backfill'>, opIndex: number, conn: Connection) => Promise<void>
  /** Ops an interrupted run already committed: recorded again, not run (SPEC S7 resume). */
  readonly skipOp?: (opIndex: number, op: Operation, conn: Connection) => boolean | Promise<boolean>
  /** Called when an op has committed, on the connection (transaction) it ran on. */
  readonly opDone?: (opIndex: number, conn: Connection, op: Operation) => Promise<void>
}

/**
 * Runs one migration's up or down: the migration records ops through `op`; each op is compiled
 * against the live table definitions and executed in order. `op.query` first runs every op
 * recorded before it. Failures become E_MIGRATION_FAILED naming the file, line and statement.
 */
export async function executeMigration(
  migration: MigrationDef,
  direction: Direction,
  options: ExecuteOptions,
): Promise<MigrationExecution> {
  const { dialect, events, runId } = options
  const pending: Operation[] = []
  const ops: Operation[] = []
  const statements: ExecutedStatement[] = []
  const sqlTexts = direction === 'up' ? migration.sql?.up : migration.sql?.down

  const flush = async (): Promise<void> => {
    while (pending.length > 0) {
      const op = pending.shift()!
      const opIndex = ops.length
      ops.push(op)
      const text = sqlTexts?.[opIndex]
      const source: StatementSource = {
        revision: migration.revision,
        file: text?.file ?? migration.file.path,
        opIndex,
        ...(text ? { line: text.line } : {}),
      }
      if (await options.skipOp?.(opIndex, op, options.conn)) continue
      const run = async (conn: Connection): Promise<void> => {
        if (op.kind === 'backfill' && options.backfill) {
          await options.backfill(op, opIndex, conn)
          await options.opDone?.(opIndex, conn, op)
          options.afterOp?.(op)
          return
        }
        await options.beforeOp?.(op, conn)
        const compiled = await compile(op, conn, dialect, migration, source)
        for (const stmt of compiled) {
          if (events.listens('statement')) events.emit('statement', { runId, revision: migration.revision, sql: stmt.sql })
          try {
            await conn.execute({ ...stmt, source })
          } catch (error) {
            throw statementError(migration, direction, source, stmt, op, error)
          }
          const done = { sql: stmt.sql, params: stmt.params, source }
          statements.push(done)
          options.onStatement?.(done)
        }
        await options.opDone?.(opIndex, conn, op)
        options.afterOp?.(op)
      }
      await (options.perOp ? options.perOp(run, op) : run(options.conn))
    }
  }

  const op = createOpBuilder({
    dialect: dialect.name,
    push: (o) => {
      if (migration.transactional && o.kind === 'backfill') {
        throw new StrataError('E_MIGRATION_FAILED', `migration ${migration.revision} (${migration.file.relativePath}): ${describeOp(o)} commits batch by batch and cannot run inside the migration's transaction`, {
          file: migration.file.path,
          revision: migration.revision,
          hint: 'set `transactional: false` in this migration',
        })
      }
      if (migration.transactional && isConcurrent(o)) {
        throw new StrataError('E_MIGRATION_FAILED', `migration ${migration.revision} (${migration.file.relativePath}): ${describeOp(o)} with \`concurrently\` cannot run inside a transaction`, {
          file: migration.file.path,
          revision: migration.revision,
          hint: 'set `transactional: false` in this migration (SQL: `-- strata:no-transaction`)',
        })
      }
      pending.push(o)
    },
    query: async (sql, params) => {
      await flush()
      try {
        return await options.conn.query({ sql, params })
      } catch (error) {
        throw new StrataError('E_MIGRATION_FAILED', `migration ${migration.revision} (${migration.file.relativePath}): op.query failed: ${messageOf(error)}`, {
          file: migration.file.path,
          revision: migration.revision,
          statement: sql,
        }, { cause: error })
      }
    },
  })

  const body = direction === 'up' ? migration.up : migration.down
  if (!body) throw new StrataError('E_IRREVERSIBLE', `migration ${migration.revision} has no down()`, { file: migration.file.path })
  const timeouts = migration.timeouts && dialect.timeoutStatements?.(migration.timeouts, options.perOp ? 'session' : 'transaction')
  try {
    for (const stmt of timeouts?.set ?? []) await options.conn.execute(stmt)
    await body(op)
    await flush()
  } catch (error) {
    // A data migration's verdicts keep their codes: a failed precondition is a refusal (exit 3).
    if (isStrataError(error) && (error.code === 'E_MIGRATION_FAILED' || error.code === 'E_PREFLIGHT' || error.code === 'E_VALIDATION')) throw error
    throw new StrataError('E_MIGRATION_FAILED', `migration ${migration.revision} (${migration.file.relativePath}) ${direction} threw: ${messageOf(error)}`, {
      file: migration.file.path,
      revision: migration.revision,
      hint: 'fix the migration code; its own transaction was rolled back',
    }, { cause: error })
  } finally {
    for (const stmt of timeouts?.reset ?? []) await options.conn.execute(stmt).catch(() => {})
  }
  return { ops, statements }
}

async function compile(op: Operation, conn: Connection, dialect: Dialect, migration: MigrationDef, source: StatementSource): Promise<readonly Statement[]> {
  const names = dialect.tablesToInspect(op)
  const tables = names.length > 0 ? await dialect.inspectTables(conn, names) : new Map()
  const ctx: CompileContext = { table: (name) => tables.get(name) }
  try {
    const compiler = dialect.compiler[op.kind] as (op: Operation, ctx: CompileContext) => readonly Statement[]
    return compiler(op, ctx)
  } catch (error) {
    const where = source.line ? `${migration.file.relativePath}:${source.line}` : migration.file.relativePath
    throw new StrataError('E_MIGRATION_FAILED', `migration ${migration.revision} (${where}): cannot ${describeOp(op)}: ${messageOf(error)}`, {
      file: migration.file.path,
      revision: migration.revision,
      hint: isStrataError(error) ? error.hint : 'check the op against the current schema',
    }, { cause: error })
  }
}

function statementError(migration: MigrationDef, direction: Direction, source: StatementSource, stmt: Statement, op: Operation, error: unknown): StrataError {
  const where = source.line ? `${migration.file.relativePath}:${source.line}` : `${migration.file.relativePath} (op ${(source.opIndex ?? 0) + 1}: ${describeOp(op)})`
  return new StrataError('E_MIGRATION_FAILED', `migration ${migration.revision} ${direction} failed at ${where}: ${messageOf(error)}`, {
    file: migration.file.path,
    ...(source.line ? { line: source.line } : {}),
    revision: migration.revision,
    statement: stmt.sql,
    hint: 'fix the statement shown and run again',
  }, { cause: error })
}

export { isConcurrent }

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
