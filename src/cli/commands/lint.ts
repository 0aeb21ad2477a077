import { Option, type Command } from 'commander'
import type { LintFinding, LintSeverity } from '../../lint/index.js'
import { globals, openStrata, unmarkTarget } from '../context.js'
import { out } from '../output.js'

const RANK: Readonly<Record<LintSeverity, number>> = { info: 0, warning: 1, error: 2 }

export function registerLint(program: Command): void {
  program
    .command('lint [revisions...]')
    .description('check migrations for data loss, locks, rewrites and irreversible changes, without connecting (exit 1 when a finding reaches --fail-on)')
    .addOption(new Option('--fail-on <level>', 'lowest severity that fails the run').choices(['error', 'warning', 'info']).default('error'))
    .action(async (revisions: string[], local: { failOn: LintSeverity }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const findings = await strata.lint(revisions.map((r) => unmarkTarget(r) ?? r))
      const failing = findings.filter((f) => RANK[f.severity] >= RANK[local.failOn])
      if (failing.length > 0) process.exitCode = 1
      if (options.json) return out.json({ findings: findings.map(shape) })
      for (const f of findings) out.text(`${f.file}${f.line !== null ? `:${f.line}` : ''}  ${f.severity}  ${f.rule}  ${f.message}`)
      out.info(summary(findings, failing.length, local.failOn))
    })
}

/** Exactly the documented keys, in order (SPEC S6). */
function shape(f: LintFinding): LintFinding {
  return { rule: f.rule, severity: f.severity, revision: f.revision, file: f.file, line: f.line, message: f.message }
}

function summary(findings: readonly LintFinding[], failing: number, failOn: LintSeverity): string {
  if (findings.length === 0) return 'lint: no findings'
  const count = (s: LintSeverity): number => findings.filter((f) => f.severity === s).length
  const parts = (['error', 'warning', 'info'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}${count(s) === 1 ? '' : s === 'info' ? '' : 's'}`)
  const verdict = failing > 0 ? `${failing} at or above ${failOn}: failed` : `none at or above ${failOn}: passed`
  return `lint: ${findings.length} finding(s): ${parts.join(', ')} (${verdict})`
}
