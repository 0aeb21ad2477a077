import type { Strata } from '../api/strata.js'
import { describeHolder } from '../lock/acquire-lock.js'
import { out } from './output.js'

/**
 * Renders run events on stderr: one line per migration (start and result), or NDJSON with
 * `--progress json`. A terminal gets the same lines; richer bars arrive with monitoring.
 */
export function attachProgress(strata: Strata, mode: 'bar' | 'plain' | 'json'): void {
  if (mode === 'json') {
    const emit = (type: string) => (payload: object) => out.event({ type, ...payload })
    for (const type of ['run:start', 'migration:start', 'migration:done', 'migration:failed', 'rollback:start', 'rollback:done', 'lock:wait', 'run:done', 'log'] as const) {
      strata.on(type, emit(type))
    }
    return
  }
  strata.on('lock:wait', ({ holder }) => out.info(`waiting for the migration lock held by ${describeHolder(holder)}`))
  strata.on('migration:start', ({ revision, direction, index, total, file }) =>
    out.info(`  [${index + 1}/${total}] ${direction === 'up' ? 'applying' : 'reverting'} ${revision} (${file})`),
  )
  strata.on('migration:done', ({ revision, direction, index, total, durationMs, statements }) =>
    out.info(`  [${index + 1}/${total}] ${direction === 'up' ? 'applied' : 'reverted'} ${revision} in ${durationMs} ms (${statements} statement${statements === 1 ? '' : 's'})`),
  )
  strata.on('migration:failed', ({ revision, direction }) => out.info(`  ✗ ${direction === 'up' ? 'applying' : 'reverting'} ${revision} failed`))
  strata.on('rollback:start', ({ revisions }) => out.info(`rolling back what this run applied: ${revisions.join(', ')}`))
  strata.on('rollback:done', ({ ok }) => out.info(ok ? 'rollback complete: the database is as it was before the run' : 'rollback FAILED: see the error below'))
  strata.on('log', ({ message }) => out.info(message))
}
