import type { Command } from 'commander'
import { EXIT_CODE_OF } from '../../errors/codes.js'
import { globals, openStrata } from '../context.js'
import { out } from '../output.js'

export function registerTest(program: Command): void {
  program
    .command('test')
    .description('run every migration up, down and up again on a scratch database; compare schemas, contents and fixtures (exit 1 on a failure)')
    .action(async (_local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const report = await strata.test()
      if (!report.ok) process.exitCode = EXIT_CODE_OF.E_VALIDATION
      if (options.json) return out.json(report)
      if (report.scratch) out.info(`testing ${report.revisions.length} migration(s) on scratch database ${report.scratch} (dropped afterwards)`)
      for (const r of report.revisions) {
        out.text(`${r.ok ? 'pass' : 'FAIL'}  ${r.revision}  ${r.notes.join(', ')}  (${r.durationMs} ms)`)
      }
      for (const f of report.failures) out.text(`  ✗ ${f.revision ? `${f.revision}: ` : ''}[${f.check}] ${f.message}`)
      out.info(report.ok ? `all ${report.revisions.length} migration(s) passed` : `error[E_VALIDATION]: ${report.failures.length} check(s) failed`)
    })
}
