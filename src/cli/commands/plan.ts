import type { Command } from 'commander'
import { globals, openStrata, unmarkTarget } from '../context.js'
import { out } from '../output.js'

export function registerPlan(program: Command): void {
  program
    .command('plan [target]')
    .description('show what `up` (or `down` with --down) would do; --sql prints the SQL without connecting')
    .option('--down', 'plan a downgrade to TARGET (default -1)')
    .option('--sql', 'print the SQL offline, without connecting to the database')
    .option('--from <revision>', 'with --sql: assume the database is at this revision (default: base for up, heads for down)')
    .action(async (target: string | undefined, local: { down?: boolean; sql?: boolean; from?: string }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const direction = local.down ? 'down' : 'up'
      const resolved = unmarkTarget(target)
      if (local.sql) {
        const sql = await strata.planSql(resolved, { direction, ...(local.from ? { from: local.from } : {}) })
        if (options.json) return out.json({ direction, target: resolved ?? null, sql })
        process.stdout.write(sql)
        return
      }
      const plan = await strata.plan(resolved, { direction })
      if (options.json) return out.json(plan)
      const held = (): void => {
        for (const h of plan.held) out.text(`  waits: ${h.revision} is built on ${h.waitsFor}, which stays expanded until \`strata complete ${h.waitsFor}\``)
      }
      if (plan.steps.length === 0) {
        out.text(`nothing to do: the database is already at ${plan.from.join(', ') || 'base'}`)
        return held()
      }
      out.text(`${direction} from ${plan.from.join(', ') || 'base'} to ${plan.to.join(', ') || 'base'}: ${plan.steps.length} migration(s)`)
      for (const step of plan.steps) {
        out.text(`  ${step.phase ?? step.direction} ${step.revision} (${step.file})${step.transactional ? '' : ' [non-transactional]'}: ${step.description}`)
        if (step.ops === null) out.text('      (reads the database; ops known only when it runs)')
        else for (const op of step.ops) out.text(`      - ${op}`)
      }
      held()
    })
}
