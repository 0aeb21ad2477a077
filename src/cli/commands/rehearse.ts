import type { Command } from 'commander'
import { EXIT_CODE_OF } from '../../errors/codes.js'
import { formatDuration } from '../../records/record.js'
import { confirmer, globals, openStrata } from '../context.js'
import { out } from '../output.js'

/** `strata rehearse [--from ENV] [--to ENV]` (SPEC S10): the SOP's staging rehearsal. */
export function registerRehearse(program: Command): void {
  program
    .command('rehearse')
    .description('copy an environment into another (default production → staging), migrate it, test the rollback and the benchmark queries, migrate it again')
    .option('--from <env>', 'the environment copied (only read)', 'production')
    .option('--to <env>', 'the environment rehearsed on (replaced by the copy)', 'staging')
    .action(async (local: { from: string; to: string }, command: Command) => {
      const options = globals(command)
      // Opened on the source environment: a config need not name a default one.
      const strata = await openStrata({ ...options, env: local.from }, true)
      const result = await strata.rehearse({ from: local.from, to: local.to, ...(options.yes ? { yes: true } : {}), ...confirmer() })
      if (!result.ok) process.exitCode = EXIT_CODE_OF.E_VALIDATION
      if (options.json) return out.json({ ok: result.ok, runId: result.runId, rollbackTested: result.rollbackTested, regressions: result.regressions, differences: result.differences, steps: result.steps, record: result.recordPath })
      for (const step of result.steps) out.text(`${step.revision}  up in ${step.durationMs === null ? '?' : formatDuration(step.durationMs)}`)
      for (const r of result.regressions) out.text(`slower: ${r.name} ${r.beforeMs} ms → ${r.afterMs} ms (${r.factor}×)`)
      for (const d of result.differences) out.text(`rollback left: ${d}`)
      if (result.ok && result.steps.length === 0) return out.info(`rehearsal ${result.runId}: nothing to rehearse, ${result.to} is at ${result.from}'s revision once copied`)
      out.info(result.ok
        ? `rehearsal ${result.runId} passed: ${result.steps.length} migration(s) on ${result.to}, rollback tested${result.recordPath ? `; record ${result.recordPath}` : ''}`
        : `error[E_VALIDATION]: rehearsal ${result.runId} failed${result.rollbackTested ? '' : ': the rollback test did not pass'}${result.regressions.length > 0 ? `; ${result.regressions.length} benchmark query(ies) slower` : ''}`)
    })
}
