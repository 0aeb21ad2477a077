import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { globals, openStrata } from '../context.js'
import { out } from '../output.js'

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show applied, pending, modified and missing migrations, and schema drift')
    .action(async (_options, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const status = await strata.status()
      if (options.json) return out.json(status)
      const file = strata.config.url.path
      if (file && file !== ':memory:' && !existsSync(file)) out.info(`note: ${file} does not exist yet; the first \`strata up\` creates it`)
      out.text(`environment: ${status.environment ?? '(none)'}    database: ${status.database.url}`)
      out.text(`current: ${status.current.join(', ') || '(base: nothing applied)'}    heads: ${status.heads.join(', ') || '(no migrations)'}`)
      out.text(`applied (${status.applied.length}):`)
      for (const a of status.applied) out.text(`  ${a.revision}  ${a.appliedAt}${a.state === 'applied' ? '' : `  [${a.state.toUpperCase()}]`}`)
      out.text(`pending (${status.pending.length}):${status.pending.length ? '' : ' none, up to date'}`)
      for (const p of status.pending) out.text(`  ${p}`)
      for (const a of status.applied.filter((r) => r.state === 'dirty')) {
        out.text(`DIRTY: ${a.revision} stopped part-way. \`strata up\` resumes it when it left checkpoints (an expand/contract revision: or \`strata abort ${a.revision}\`); otherwise inspect the database and run \`strata repair --mark applied|reverted\`.`)
      }
      for (const a of status.applied.filter((r) => r.state === 'expanded')) {
        out.text(`EXPANDED: ${a.revision} serves the old and the new application; once the new one is deployed run \`strata complete ${a.revision}\` (or \`strata abort ${a.revision}\` to undo it). Migrations built on it wait.`)
      }
      if (status.modified.length) out.text(`MODIFIED since applied: ${status.modified.join(', ')}  (restore the files or run \`strata repair\`)`)
      if (status.missing.length) out.text(`MISSING files of applied revisions: ${status.missing.join(', ')}  (restore them or run \`strata repair\`)`)
      if (status.drift) {
        out.text(`DRIFT: the schema differs from the one recorded after the last migration:`)
        for (const o of status.drift.objects) out.text(`  ${o.change} ${o.kind} ${o.name}`)
      }
    })
}
