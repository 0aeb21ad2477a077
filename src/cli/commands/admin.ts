import type { Command } from 'commander'
import { StrataError } from '../../errors/index.js'
import { describeHolder } from '../../lock/acquire-lock.js'
import { globals, openStrata, unmarkTarget } from '../context.js'
import { out } from '../output.js'

export function registerAdmin(program: Command): void {
  program
    .command('stamp <target>')
    .description('mark the history as being at TARGET without running migrations (adopt an existing database)')
    .action(async (target: string, _local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options, true)
      const result = await strata.stamp(unmarkTarget(target)!)
      if (options.json) return out.json({ ok: true, ...result })
      out.info(`stamped ${result.stamped.length} revision(s)${result.stamped.length ? `: ${result.stamped.join(', ')}` : ''}; unstamped ${result.unstamped.length}${result.unstamped.length ? `: ${result.unstamped.join(', ')}` : ''} (run ${result.runId})`)
    })
  program
    .command('repair')
    .description('accept modified files (re-stamp checksums), forget missing ones, resolve dirty revisions; recorded')
    .option('--mark <state>', 'for dirty revisions: `applied`, `reverted` or (expand/contract) `expanded`, as you found the database')
    .action(async (local: { mark?: string }, command: Command) => {
      const options = globals(command)
      if (local.mark !== undefined && local.mark !== 'applied' && local.mark !== 'reverted' && local.mark !== 'expanded') {
        throw new StrataError('E_USAGE', `--mark must be \`applied\`, \`reverted\` or \`expanded\`, got \`${local.mark}\``)
      }
      const strata = await openStrata(options, true)
      const result = await strata.repair(local.mark ? { mark: local.mark } : {})
      if (options.json) return out.json({ ok: true, ...result })
      const changes = result.restamped.length + result.removed.length + result.resolved.length
      if (changes === 0) return out.info(`nothing to repair: history and files agree (run ${result.runId})`)
      for (const r of result.restamped) out.info(`re-stamped checksum of ${r}`)
      for (const r of result.removed) out.info(`removed history of ${r} (file missing)`)
      for (const r of result.resolved) out.info(`marked dirty ${r.revision} as ${r.as}`)
    })
  program
    .command('unlock')
    .description('clear a migration lock left by a process that is gone (--force: any holder)')
    .option('--force', 'also end a live holder (on this host)')
    .action(async (local: { force?: boolean }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const { cleared } = await strata.unlock({ force: local.force ?? false })
      if (options.json) return out.json({ ok: true, cleared })
      out.info(cleared ? `cleared the lock record of ${describeHolder(cleared)}` : 'no lock was recorded')
    })
}
