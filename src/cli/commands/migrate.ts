import { Option, type Command } from 'commander'
import type { RunOptions } from '../../api/strata.js'
import type { MigrateResult } from '../../pipeline/migrate.js'
import { StrataError } from '../../errors/index.js'
import { confirmer, globals, openStrata, unmarkTarget } from '../context.js'
import { out, type GlobalOptions } from '../output.js'

export function registerMigrate(program: Command): void {
  program
    .command('up [target]')
    .description('apply pending migrations up to TARGET (default: every head)')
    .option('--single-transaction', 'run the whole plan in one transaction: all or nothing')
    .action(async (target: string | undefined, local: { singleTransaction?: boolean }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options, true)
      announce(options, 'up', unmarkTarget(target) ?? 'heads', strata.config.url.redacted, strata.config.environment)
      const result = await strata.up(unmarkTarget(target) ?? 'heads', runOptions(options, local))
      finish(options, result)
    })
  program
    .command('down <target>')
    .description('revert applied migrations down to TARGET (kept), e.g. -1, base or a revision')
    .option('--single-transaction', 'run the whole plan in one transaction: all or nothing')
    .action(async (target: string, local: { singleTransaction?: boolean }, command: Command) => {
      const options = globals(command)
      const resolved = unmarkTarget(target)
      if (!resolved) throw new StrataError('E_USAGE', '`down` needs a target', { hint: 'e.g. `strata down -1` or `strata down base`' })
      const strata = await openStrata(options, true)
      announce(options, 'down', resolved, strata.config.url.redacted, strata.config.environment)
      const result = await strata.down(resolved, runOptions(options, local))
      finish(options, result)
    })
  program
    .command('deploy')
    .description('backup, migrate and validate: rolling inside maintenance mode, blue-green on a copy the application is switched to (default: the environment\'s policy.strategy)')
    .addOption(new Option('--strategy <strategy>', 'rolling (maintenance on → backup → migrate → validate → off), blue-green (migrate a copy, switch to it) or direct').choices(['rolling', 'blue-green', 'direct']))
    .option('--message <text>', 'what the application shows while maintenance is on')
    .option('--rollback', 'blue-green: point the application back at the database it used before the last switch')
    .action(async (local: { strategy?: 'rolling' | 'blue-green' | 'direct'; message?: string; rollback?: boolean }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options, true)
      if (local.rollback) {
        const pointer = await strata.deployRollback(runOptions(options, {}))
        if (options.json) return out.json({ ok: true, active: pointer.active, previous: pointer.previous, switchedAt: pointer.switchedAt })
        return out.info(`the application now reads ${pointer.active} again (the database before the last switch); ${pointer.previous} is kept`)
      }
      const strategy = local.strategy ?? (strata.config.policy.strategy as 'rolling' | 'blue-green' | 'direct')
      announce(options, `deploy (${strategy})`, 'heads', strata.config.url.redacted, strata.config.environment)
      const result = await strata.deploy({ ...runOptions(options, {}), strategy, ...(local.message !== undefined ? { message: local.message } : {}) })
      if (options.json) return json(result, { strategy: result.strategy, maintenance: result.maintenance, pointer: result.pointer ?? null })
      finish(options, result)
    })
  const phases = [
    ['complete', 'expand/contract: run the contract phase of an expanded REVISION, once the new application is deployed'],
    ['abort', 'expand/contract: undo the expand of REVISION (its abort, or the reverse of its expand ops)'],
  ] as const
  for (const [name, description] of phases) {
    program
      .command(`${name} <revision>`)
      .description(description)
      .action(async (target: string, _local, command: Command) => {
        const options = globals(command)
        const revision = unmarkTarget(target) ?? target
        const strata = await openStrata(options, true)
        announce(options, name, revision, strata.config.url.redacted, strata.config.environment)
        finishPhase(options, name, await strata[name](revision, runOptions(options, {})))
      })
  }
}

function runOptions(options: GlobalOptions, local: { singleTransaction?: boolean }): RunOptions {
  return {
    singleTransaction: local.singleTransaction ?? false,
    yes: options.yes ?? false,
    ...confirmer(),
  }
}

function announce(options: GlobalOptions, direction: string, target: string, url: string, environment: string | null): void {
  if (!options.json) out.info(`strata ${direction} ${direction === 'up' || direction === 'down' ? 'to ' : ''}${target} on ${url}${environment ? ` (environment ${environment})` : ''}`)
}

function json(result: MigrateResult, extra: Record<string, unknown> = {}): void {
  const { plan, report } = result
  out.json({
    ok: true, runId: result.runId, ...extra, direction: plan.direction, target: plan.target, from: plan.fromHeads, to: plan.toHeads,
    results: report.results, state: report.state, held: plan.held, backupId: result.backup?.id ?? null, preflight: result.preflight, postflight: result.postflight,
  })
}

function finish(options: GlobalOptions, result: MigrateResult): void {
  const { plan, report } = result
  if (options.json) return json(result)
  const expanded = plan.steps.filter((s) => s.phase === 'expand').map((s) => s.revision)
  const waiting = (): void => {
    for (const r of expanded) {
      out.info(`${r} is EXPANDED: deploy the application that uses its new shape, then run \`strata complete ${r}\` (or \`strata abort ${r}\` to undo it)`)
    }
    const byRevision = new Map<string, string[]>()
    for (const h of plan.held) byRevision.set(h.waitsFor, [...(byRevision.get(h.waitsFor) ?? []), h.revision])
    for (const [on, revisions] of byRevision) out.info(`waiting for \`strata complete ${on}\`: ${revisions.join(', ')} (built on it, not applied)`)
  }
  if (plan.steps.length === 0) {
    out.info(`nothing to do: already at ${plan.fromHeads.join(', ') || 'base'} (run ${result.runId})`)
    waiting()
    return
  }
  const total = report.results.reduce((sum, r) => sum + (r.durationMs ?? 0), 0)
  const whole = plan.steps.length - expanded.length
  const aborted = plan.steps.filter((s) => s.phase === 'abort').length
  const counts = plan.direction === 'up'
    ? [whole > 0 || expanded.length === 0 ? `applied ${whole}` : '', expanded.length > 0 ? `expanded ${expanded.length}` : ''].filter(Boolean).join(' and ')
    : [`reverted ${plan.steps.length - aborted}`, aborted > 0 ? `aborted ${aborted}` : ''].filter((p) => p && !p.endsWith(' 0')).join(' and ') || 'reverted 0'
  out.info(`${counts} migration(s) in ${total} ms; now at ${plan.toHeads.join(', ') || 'base'} (run ${result.runId})`)
  out.info(checkLine(result))
  waiting()
}

function checkLine(result: MigrateResult): string {
  const warned = [...result.preflight, ...result.postflight].filter((c) => c.status === 'warn').length
  return `checks: ${result.preflight.length} preflight and ${result.postflight.length} postflight passed${warned ? ` (${warned} with warnings)` : ''}${result.backup ? `; pre-run backup ${result.backup.id}` : ''}`
}

function finishPhase(options: GlobalOptions, command: 'complete' | 'abort', result: MigrateResult): void {
  const { plan, report } = result
  if (options.json) return json(result, { command })
  if (plan.steps.length === 0) return out.info(`nothing to do: ${plan.target} is already complete (run ${result.runId})`)
  const ms = report.results[0]?.durationMs ?? 0
  out.info(command === 'complete'
    ? `completed ${plan.target}: its contract ran in ${ms} ms; it is applied (run ${result.runId})`
    : `aborted ${plan.target}: its expand was undone in ${ms} ms; now at ${plan.toHeads.join(', ') || 'base'} (run ${result.runId})`)
  out.info(checkLine(result))
}
