import type { Command } from 'commander'
import type { CheckReport, CheckResult } from '../../checks/check.js'
import { EXIT_CODE_OF } from '../../errors/codes.js'
import { globals, openStrata } from '../context.js'
import { out } from '../output.js'

const SYMBOL = { pass: 'pass', warn: 'WARN', fail: 'FAIL' } as const

export function registerChecks(program: Command): void {
  program
    .command('check')
    .description('run every preflight check without changing anything (exit 3 when one fails)')
    .action(async (_local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const report = await strata.check()
      print(report, options.json ?? false, 'preflight')
      if (!report.ok) process.exitCode = EXIT_CODE_OF.E_PREFLIGHT
    })
  program
    .command('validate')
    .description('run every postflight check on the database as it is (exit 1 when one fails)')
    .action(async (_local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const report = await strata.validate()
      print(report, options.json ?? false, 'postflight')
      if (!report.ok) process.exitCode = EXIT_CODE_OF.E_VALIDATION
    })
}

function print(report: CheckReport, json: boolean, phase: string): void {
  if (json) return out.json(report)
  printChecks(report.checks)
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const warned = report.checks.filter((c) => c.status === 'warn').length
  const code = phase === 'preflight' ? 'E_PREFLIGHT' : 'E_VALIDATION'
  out.info(report.ok
    ? `${phase}: ${report.checks.length} check(s) passed${warned ? `, ${warned} with warnings` : ''}`
    : `error[${code}]: ${phase}: ${failed} of ${report.checks.length} check(s) failed`)
}

export function printChecks(checks: readonly CheckResult[]): void {
  const width = Math.max(0, ...checks.map((c) => c.name.length))
  for (const c of checks) out.text(`${SYMBOL[c.status]}  ${c.name.padEnd(width)}  ${c.message}`)
}
