import { createHash } from 'node:crypto'
import { relative } from 'node:path'
import type { MigrationDef } from '../loader/migration.js'
import type { Project } from '../pipeline/session.js'
import { collectSteps, type CollectContext } from './collect.js'
import { keyedCache } from './parsers/parse-cache.js'
import { loadSqlParser, parserFlavor } from './parsers/index.js'
import type { BodyInfo, RuleHit } from './rule.js'
import { RULES } from './rules/index.js'
import { SchemaModel } from './schema-model.js'
import { ruleSettings, severityOf, type RuleSettings } from './settings.js'
import type { Anchor, LintBodyName, LintDirection, LintFinding, Step } from './types.js'
import { phaseStep } from '../plan/phases.js'

export interface LintOptions {
  /**
   * Revisions to report on (ids, unique prefixes or labels, as `strata lint REV…` takes them);
   * default every migration. Every migration is still read, so the schema model is complete.
   */
  readonly revisions?: readonly string[]
  /** Which bodies to lint: `up`, `down`, or both (default). */
  readonly direction?: LintDirection
  /** Finding paths are relative to it; default the working directory. */
  readonly cwd?: string
}

/**
 * Lints migrations without a database (SPEC S6): each migration's ops and SQL statements are
 * reduced to facts (SQL through the engine's real parser), replayed in graph order into a
 * virtual schema, and checked by every rule. Findings come in graph order, up before down,
 * then in statement order, with the severities of config `lint.rules`; rules silenced by
 * `lint-ignore` or set `off` are left out. Throws E_CONFIG for an unknown rule id in the
 * config, E_UNKNOWN_REVISION / E_AMBIGUOUS_REVISION for a revision it cannot resolve, and
 * E_MIGRATION_FILE for an unknown rule id in a lint-ignore.
 *
 * The preflight calls it for the pending migrations and compares with policy `lint_fail_on`.
 */
export async function lintMigrations(project: Project, options: LintOptions = {}): Promise<LintFinding[]> {
  // The findings depend on the files (by checksum, in graph order), the rule settings, the
  // grammar and the options alone: a repeated lint (the preflight of every `up`) reads them back.
  const cache = keyedCache<LintFinding[]>(`findings-${parserFlavor(project.config.url)}`)
  const key = cacheKey(project, options)
  const cached = cache?.get(key)
  if (cached) return cached
  const findings = await lintAll(project, options)
  cache?.set(key, findings)
  cache?.flush()
  return findings
}

function cacheKey(project: Project, options: LintOptions): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify([ruleSettingsKey(project), options.revisions ?? null, options.direction ?? null, options.cwd ?? process.cwd()]))
  for (const revision of project.graph.ordered) {
    const migration = project.migrations.get(revision)
    hash.update(`\n${revision}\0${migration?.file.relativePath ?? ''}\0${migration?.file.checksum ?? ''}\0${migration?.transactional ?? ''}`)
  }
  return hash.digest('base64url')
}

function ruleSettingsKey(project: Project): unknown {
  return project.config.raw.lint?.rules ?? null
}

async function lintAll(project: Project, options: LintOptions): Promise<LintFinding[]> {
  const settings = ruleSettings(project.config)
  const selected = options.revisions ? new Set(options.revisions.flatMap((r) => project.graph.resolve(r))) : null
  const ctx: CollectContext = {
    dialect: project.dialect.name,
    parser: await loadSqlParser(parserFlavor(project.config.url)),
    cwd: options.cwd ?? process.cwd(),
  }
  const directions: readonly LintDirection[] = options.direction ? [options.direction] : ['up', 'down']
  const model = new SchemaModel()
  const findings: LintFinding[] = []
  for (const revision of project.graph.ordered) {
    const migration = project.migrations.get(revision)
    if (!migration) continue
    const wanted = selected === null || selected.has(revision)
    // The up is replayed into the model whether or not it is reported: later migrations build on
    // it. A migration only replayed may not fail the lint of others (a preflight lints the
    // pending ones): what it would have added to the model stays unknown.
    const up = await lintBody(migration, 'up', model, ctx, project).catch((error: unknown) => {
      if (wanted) throw error
      return null
    })
    if (up === null) continue
    if (wanted && directions.includes('up')) findings.push(...report(up, migration, settings, ctx))
    // An expand/contract migration (SPEC S7) is reverted by its abort, from the expanded schema;
    // its contract then completes it, and later migrations build on the completed schema.
    const back = migration.phases ? phaseStep(migration, 'abort').migration : migration
    if (wanted && directions.includes('down') && back.down) {
      const down = await lintBody(back, 'down', model.clone(), ctx, project, migration.phases ? 'abort' : 'down')
      findings.push(...report(down, migration, settings, ctx))
    }
    if (migration.phases) {
      const contract = await lintBody(phaseStep(migration, 'contract').migration, 'up', model, ctx, project, 'contract').catch((error: unknown) => {
        if (wanted) throw error
        return null
      })
      if (contract && wanted && directions.includes('up')) findings.push(...report(contract, migration, settings, ctx))
    }
  }
  ctx.parser.flush?.()
  return findings
}

interface RawFinding extends RuleHit {
  readonly rule: string
}

interface BodyResult {
  readonly direction: LintDirection
  readonly body: LintBodyName
  readonly steps: readonly Step[]
  readonly raw: readonly RawFinding[]
}

/** Runs every rule over one body, replaying its facts into `model` as it goes. */
async function lintBody(migration: MigrationDef, direction: LintDirection, model: SchemaModel, ctx: CollectContext, project: Project, body: LintBodyName = direction): Promise<BodyResult> {
  const steps = await collectSteps(migration, direction, ctx)
  const info: BodyInfo = {
    dialect: project.dialect.name,
    capabilities: project.dialect.capabilities,
    migration,
    direction,
    scope: `${migration.revision}:${body}`,
  }
  const raw: RawFinding[] = []
  for (const step of steps) {
    if (step.facts === null) {
      raw.push({ rule: 'unparsed', anchor: step.anchor, message: `${step.problem ?? 'cannot be read'}; no other rule checked it` })
      continue
    }
    for (const fact of step.facts) {
      for (const rule of RULES) {
        const hit = rule.checkFact?.(fact, { ...info, model, step })
        if (hit) raw.push({ rule: rule.id, anchor: step.anchor, ...hit })
      }
      model.apply(fact, info.scope, step.anchor)
    }
  }
  for (const rule of RULES) {
    for (const hit of rule.checkBody?.({ ...info, model, steps }) ?? []) raw.push({ rule: rule.id, ...hit })
  }
  return { direction, body, steps, raw }
}

/**
 * Severity, ignores and de-duplication: the findings as users see them, migration-wide ones
 * first, then in the order of the body's ops and statements.
 */
function report(body: BodyResult, migration: MigrationDef, settings: RuleSettings, ctx: CollectContext): LintFinding[] {
  const { body: name } = body
  // A finding about the whole migration (`irreversible`) has no statement to sit above: an
  // ignore of its rule on any op or statement of the body silences it too.
  const fileWide = new Set(migration.lintIgnore ?? [])
  const bodyWide = new Set(body.steps.flatMap((step) => [...step.anchor.ignores]))
  const positions = new Map<Anchor, number>(body.steps.map((step, index) => [step.anchor, index]))
  const position = (anchor: Anchor | undefined): number => (anchor === undefined ? -1 : positions.get(anchor) ?? -1)
  const seen = new Set<string>()
  const findings: LintFinding[] = []
  for (const hit of [...body.raw].sort((a, b) => position(a.anchor) - position(b.anchor))) {
    const severity = severityOf(hit.rule, settings, name)
    const ignored = fileWide.has(hit.rule) || (hit.anchor === undefined ? bodyWide.has(hit.rule) : hit.anchor.ignores.has(hit.rule))
    if (severity === null || ignored) continue
    const id = `${hit.rule}\u0000${position(hit.anchor)}\u0000${hit.key ?? hit.message}`
    if (seen.has(id)) continue
    seen.add(id)
    findings.push({
      rule: hit.rule,
      severity,
      revision: migration.revision,
      file: hit.anchor?.file ?? (relative(ctx.cwd, migration.file.path) || migration.file.path),
      line: hit.anchor?.line ?? null,
      message: `${name === 'up' ? '' : `${name}: `}${hit.anchor?.label ? `${hit.anchor.label}: ` : ''}${hit.message}`,
    })
  }
  return findings
}
