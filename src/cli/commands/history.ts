import type { Command } from 'commander'
import { globals, openStrata } from '../context.js'
import { out } from '../output.js'

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('list the revisions in graph order, and the log of every apply, revert, repair and stamp')
    .action(async (_options, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const project = await strata.project()
      const history = await strata.history()
      const applied = new Map(history.applied.map((a) => [a.revision, a]))
      if (options.json) {
        return out.json({
          revisions: project.graph.ordered.map((revision) => {
            const def = project.migrations.get(revision)!
            const row = applied.get(revision)
            return { revision, downRevisions: def.downRevisions, dependsOn: def.dependsOn, branchLabels: def.branchLabels, description: def.description, file: def.file.relativePath, applied: row !== undefined, appliedAt: row?.appliedAt ?? null, state: row?.state ?? null }
          }),
          log: history.log,
          runs: history.runs.map(({ report: _report, ...run }) => run),
        })
      }
      for (const revision of [...project.graph.ordered].reverse()) {
        const def = project.migrations.get(revision)!
        const row = applied.get(revision)
        const parents = def.downRevisions.length ? def.downRevisions.join(', ') : '<base>'
        const tags = [project.graph.heads.includes(revision) ? 'head' : '', def.downRevisions.length > 1 ? 'merge' : '', ...def.branchLabels.map((l) => `@${l}`)].filter(Boolean)
        out.text(`${row ? '*' : ' '} ${parents} -> ${revision}${tags.length ? ` (${tags.join(', ')})` : ''}${def.description ? `, ${def.description}` : ''}${row ? `  [applied ${row.appliedAt}]` : ''}`)
      }
      if (history.log.length) out.text('\nlog:')
      for (const e of history.log) out.text(`  ${e.at}  ${e.action.padEnd(7)} ${e.revision}  by ${e.by}  run ${e.runId}${e.detail ? `  (${e.detail})` : ''}`)
    })
}
