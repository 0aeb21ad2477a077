import type { Command } from 'commander'
import { formatDuration } from '../../records/record.js'
import { globals, openStrata } from '../context.js'
import { out } from '../output.js'

/** `strata record list|show RUN` (SPEC S9): the Migration Records of the runs. */
export function registerRecord(program: Command): void {
  const record = program.command('record').description('the migration record of every run (the SOP\'s Migration Record)')
  record
    .command('list')
    .description('list the recorded runs, oldest first')
    .action(async (_local, command: Command) => {
      const options = globals(command)
      const records = await (await openStrata(options, true)).records.list()
      if (options.json) {
        return out.json({
          records: records.map((r) => ({
            runId: r.runId, date: r.date, environment: r.environment, command: r.command, status: r.status, success: r.success,
            migrationIds: r.migrationIds, durationMs: r.durationMs, changeRequest: r.changeRequest, rehearsal: r.rehearsal === true,
          })),
        })
      }
      if (records.length === 0) return out.info('no migration records yet (every `up`, `down`, `complete` and `abort` writes one)')
      for (const r of records) {
        const what = r.migrationIds.length === 0 ? 'nothing to run' : r.migrationIds.length <= 3 ? r.migrationIds.join(', ') : `${r.migrationIds.slice(0, 2).join(', ')} and ${r.migrationIds.length - 2} more`
        out.text(`${r.runId}  ${r.executionTime.slice(0, 19).replace('T', ' ')}  ${(r.environment ?? '-').padEnd(12)}  ${r.command.padEnd(8)}  ${r.status.padEnd(11)}  ${formatDuration(r.durationMs).padStart(9)}  ${what}${r.rehearsal ? '  (rehearsal)' : ''}`)
      }
    })
  record
    .command('show <run>')
    .description('print a run\'s record as Markdown (the JSON record with --json)')
    .action(async (run: string, _local, command: Command) => {
      const options = globals(command)
      const shown = await (await openStrata(options, true)).records.show(run)
      if (options.json) return out.json(shown.record)
      process.stdout.write(shown.markdown)
    })
}
