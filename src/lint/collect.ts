import { relative } from 'node:path'
import type { DialectName } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import type { MigrationDef, SqlStatementText } from '../loader/migration.js'
import { createOpBuilder, type OpBuilder } from '../ops/op-builder.js'
import type { Operation } from '../ops/operation.js'
import { mapPlaceholders } from '../sql/placeholders.js'
import { scanDirectives } from '../sql/sql-directives.js'
import { parseLintIgnore } from '../sql/sql-headers.js'
import { closest } from '../util/text.js'
import { factsOfOp } from './op-facts.js'
import type { SqlParser } from './parsers/index.js'
import { RULE_IDS } from './rules/index.js'
import type { Anchor, LintDirection, Step } from './types.js'

/**
 * How long lint lets a module's up/down run to record its ops. Recording touches no database
 * (`op.query` returns no rows at once), so a body still running after this waits on something
 * else (a timer, a file, the network): lint stops listening rather than wait with it.
 */
const RECORD_BUDGET_MS = 2_000

export interface CollectContext {
  readonly dialect: DialectName
  readonly parser: SqlParser
  /** Paths in findings are relative to it. */
  readonly cwd: string
}

/**
 * The steps of one body (up or down) of a migration, without a database: an SQL migration's
 * statements as the loader split them (with their lines), or the ops a module's up/down records
 * on a builder whose `op.query` returns no rows. Every SQL text goes through the engine's parser.
 * Throws E_MIGRATION_FILE for a lint-ignore naming an unknown rule, and for a body that throws
 * before reading the database (the runner would fail the same way).
 */
export async function collectSteps(migration: MigrationDef, direction: LintDirection, ctx: CollectContext): Promise<Step[]> {
  if (migration.sql) {
    const statements = direction === 'up' ? migration.sql.up : migration.sql.down ?? []
    return statements.map((statement) => sqlStep(statement, ctx))
  }
  const body = direction === 'up' ? migration.up : migration.down
  if (!body) return []
  const file = shown(migration.file.path, ctx)
  const { recorded, problem } = await record(body, migration, direction, ctx)
  const steps = recorded.map(({ op, ignores }, index): Step => {
    const label = `op #${index + 1} ${op.kind}`
    if (op.kind !== 'execute') {
      const anchor: Anchor = { file, line: null, source: 'op', label, ignores: checked(ignores, file) }
      return { anchor, facts: factsOfOp(op, ctx.dialect) }
    }
    const inline = inlineIgnores(op.sql, file, ctx.dialect, false)
    const anchor: Anchor = { file, line: null, source: 'op', label, ignores: checked([...ignores, ...inline], file) }
    // op.execute uses `?` on every engine; PostgreSQL's parser reads the `$n` the compiler sends.
    const sql = ctx.dialect === 'postgres' ? mapPlaceholders(op.sql, (i) => `$${i + 1}`) : op.sql
    return parsed(anchor, sql, ctx.parser)
  })
  if (problem !== undefined) {
    const anchor: Anchor = { file, line: null, source: 'op', label: null, ignores: new Set() }
    steps.push({ anchor, facts: null, problem })
  }
  return steps
}

function sqlStep(statement: SqlStatementText, ctx: CollectContext): Step {
  const file = shown(statement.file, ctx)
  const ignores = checked(inlineIgnores(statement.sql, statement.file, ctx.dialect, true), file)
  return parsed({ file, line: statement.line, source: 'sql', label: null, ignores }, statement.sql, ctx.parser)
}

function parsed(anchor: Anchor, sql: string, parser: SqlParser): Step {
  const result = parser.parse(sql)
  if ('error' in result) return { anchor, facts: null, problem: `${parser.name} cannot read this statement (${result.error})` }
  return { anchor, facts: result.facts }
}

/**
 * The rules named by `-- strata:lint-ignore` lines among the comments above a statement (the
 * splitter keeps them with the statement below). In SQL files the loader has already checked
 * every directive; in `op.execute` text a stray `-- strata:` comment is not lint's business.
 */
function inlineIgnores(sql: string, file: string, dialect: DialectName, strict: boolean): string[] {
  try {
    return scanDirectives(sql, dialect, file).directives
      .filter((d) => d.name === 'lint-ignore' && !d.afterSql)
      .flatMap((d) => parseLintIgnore(d, file))
  } catch (error) {
    if (strict) throw error
    return []
  }
}

/** The rule ids, refusing unknown ones: a misspelt ignore would silently silence nothing. */
function checked(rules: readonly string[], file: string): ReadonlySet<string> {
  for (const rule of rules) {
    if (RULE_IDS.includes(rule)) continue
    const suggestion = closest(rule, RULE_IDS)
    throw new StrataError('E_MIGRATION_FILE', `${file}: lint-ignore names an unknown rule \`${rule}\``, {
      file,
      hint: suggestion ? `did you mean \`${suggestion}\`?` : `the rules are ${RULE_IDS.join(', ')}`,
    })
  }
  return new Set(rules)
}

interface Recorded {
  readonly op: Operation
  readonly ignores: readonly string[]
}

/** Runs a module's up/down against a recording builder, keeping each op's `op.lintIgnore` rules. */
async function record(
  body: (op: OpBuilder) => unknown,
  migration: MigrationDef,
  direction: LintDirection,
  ctx: CollectContext,
): Promise<{ recorded: Recorded[]; problem?: string }> {
  const recorded: Recorded[] = []
  let pending: string[] = []
  let queried = false
  let closed = false
  const op = createOpBuilder({
    dialect: ctx.dialect,
    push: (o) => {
      if (closed) return
      recorded.push({ op: o, ignores: pending })
      pending = []
    },
    query: async () => {
      queried = true
      return []
    },
    lintIgnore: (rules) => void pending.push(...rules),
  })
  let timer: NodeJS.Timeout | undefined
  try {
    const outcome = await Promise.race([
      Promise.resolve(body(op)).then(() => 'done' as const),
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), RECORD_BUDGET_MS)
        timer.unref()
      }),
    ])
    if (outcome === 'late') {
      closed = true
      return {
        recorded,
        problem: `${direction}() of ${migration.revision} did not finish within ${RECORD_BUDGET_MS / 1000} s without a database (it waits on something other than op.query); the ops it recorded before were checked, the rest were not`,
      }
    }
    return { recorded }
  } catch (error) {
    // After a read that returned no rows, anything may fail (a data migration's precondition
    // finds no data): that is lint's blind spot, not the migration's fault.
    if (isStrataError(error) && !queried) throw error
    const message = error instanceof Error ? error.message : String(error)
    const where = `${direction}() of ${migration.revision}`
    if (queried) {
      return {
        recorded,
        problem: `${where} threw after reading the database, which lint does not do (op.query returns no rows here): ${message}; the ops after that point were not checked`,
      }
    }
    throw new StrataError('E_MIGRATION_FILE', `${where} threw while lint recorded its ops: ${message}`, {
      file: migration.file.path,
      hint: 'fix the migration code; `strata up` would fail the same way',
    }, { cause: error })
  } finally {
    clearTimeout(timer)
  }
}

function shown(path: string, ctx: CollectContext): string {
  return relative(ctx.cwd, path) || path
}
