import type { Command } from 'commander'
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
}

function runOptions(options: GlobalOptions, local: { singleTransaction?: boolean }): RunOptions {
  return {
    singleTransaction: local.singleTransaction ?? false,
    yes: options.yes ?? false,
    ...confirmer(),
  }
}

function announce(options: GlobalOptions, direction: string, target: string, url: string, environment: string | null): void {
  if (!options.json) out.info(`strata ${direction} to ${target} on ${url}${environment ? ` (environment ${environment})` : ''}`)
}

function finish(options: GlobalOptions, result: MigrateResult): void {
  const { plan, report } = result
  if (options.json) {
    return out.json({ ok: true, runId: result.runId, direction: plan.direction, target: plan.target, from: plan.fromHeads, to: plan.toHeads, results: report.results, state: report.state, backupId: result.backup?.id ?? null, preflight: result.preflight, postflight: result.postflight })
  }
  if (plan.steps.length === 0) {
    out.info(`nothing to do: already at ${plan.fromHeads.join(', ') || 'base'} (run ${result.runId})`)
    return
  }
  const total = report.results.reduce((sum, r) => sum + (r.durationMs ?? 0), 0)
  const verb = plan.direction === 'up' ? 'applied' : 'reverted'
  const checks = [...result.preflight, ...result.postflight]
  const warned = checks.filter((c) => c.status === 'warn').length
  out.info(`${verb} ${plan.steps.length} migration(s) in ${total} ms; now at ${plan.toHeads.join(', ') || 'base'} (run ${result.runId})`)
  out.info(`checks: ${result.preflight.length} preflight and ${result.postflight.length} postflight passed${warned ? ` (${warned} with warnings)` : ''}${result.backup ? `; pre-run backup ${result.backup.id}` : ''}`)
}
