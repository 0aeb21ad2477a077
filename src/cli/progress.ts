import type { Strata } from '../api/strata.js'
import { describeHolder } from '../lock/acquire-lock.js'
import { out } from './output.js'
import { mib } from '../util/text.js'
import type { Direction, StrataEvents } from '../events/events.js'
import type { Phase } from '../plan/phases.js'

/**
 * Renders run events on stderr (SPEC S8): one line per migration (start and result); a backfill
 * as a bar redrawn in place (`bar`, the default on a terminal) or a line a second (`plain`);
 * NDJSON with `--progress json`.
 */
const SYMBOL = { pass: '✓', warn: '!', fail: '✗' } as const

export function attachProgress(strata: Strata, mode: 'bar' | 'plain' | 'json'): void {
  if (mode === 'json') {
    const emit = (type: string) => (payload: object) => out.event(type, payload)
    for (const type of ['run:start', 'migration:start', 'migration:done', 'migration:failed', 'rollback:start', 'rollback:done', 'lock:wait', 'run:done', 'log', 'check', 'backup:start', 'backup:done', 'restore:start', 'restore:done', 'backfill:progress', 'metrics:sample', 'alert', 'statement'] as const) {
      strata.on(type, emit(type))
    }
    return
  }
  strata.on('lock:wait', ({ holder }) => out.info(`waiting for the migration lock held by ${describeHolder(holder)}`))
  strata.on('migration:start', ({ revision, direction, phase, index, total, file }) =>
    out.info(`  [${index + 1}/${total}] ${verbs(direction, phase)[0]} ${revision} (${file})`),
  )
  strata.on('migration:done', ({ revision, direction, phase, index, total, durationMs, statements }) =>
    out.info(`  [${index + 1}/${total}] ${verbs(direction, phase)[1]} ${revision} in ${durationMs} ms (${statements} statement${statements === 1 ? '' : 's'})`),
  )
  strata.on('migration:failed', ({ revision, direction, phase }) => out.info(`  ✗ ${verbs(direction, phase)[0]} ${revision} failed`))
  strata.on('rollback:start', ({ revisions }) => out.info(`rolling back what this run applied: ${revisions.join(', ')}`))
  strata.on('rollback:done', ({ ok, revisions }) => out.info(ok ? `rollback complete: reverted ${revisions.join(', ')}` : 'rollback FAILED: see the error below'))
  strata.on('log', ({ message }) => out.info(message))
  strata.on('check', ({ phase, name, status, message }) => {
    if (status !== 'pass') out.info(`  ${phase} ${SYMBOL[status]} ${name}: ${message}`)
  })
  let shownAt = 0
  strata.on('backfill:progress', (progress) => {
    const now = Date.now()
    const final = progress.rows >= progress.total
    if (mode === 'bar') {
      // Redrawn ten times a second at most, and once more when the table is done.
      if (!final && now - shownAt < 100) return
      shownAt = now
      return out.live(backfillBar(progress), final)
    }
    // One line a second at most (and the last one): a terminal log, not a flood.
    if (!final && now - shownAt < 1000) return
    shownAt = now
    const { table, rows, total, rowsPerSecond, etaMs, batchMs } = progress
    const pct = total > 0 ? ` (${Math.min(100, Math.floor((rows / total) * 100))}%)` : ''
    out.info(`  backfill ${table}: ${rows}/${total} rows${pct}, ${rowsPerSecond} rows/s, last batch ${batchMs} ms${etaMs !== null && !final ? `, about ${Math.ceil(etaMs / 1000)} s left` : ''}`)
  })
  strata.on('backup:start', ({ dir }) => out.info(`backing up to ${dir} …`))
  strata.on('backup:done', ({ id, size, durationMs, verified }) => out.info(`backup ${id} taken (${mib(size)} in ${durationMs} ms${verified ? ', verified' : ''})`))
  strata.on('restore:start', ({ backupId }) => out.info(`restoring backup ${backupId} …`))
  strata.on('restore:done', ({ backupId, durationMs }) => out.info(`backup ${backupId} put back and checked against its manifest in ${durationMs} ms`))
}

/** How a step is named while it runs and once done: `applying` / `applied`, `expanding` / `expanded`, … */
function verbs(direction: Direction, phase: Phase | undefined): readonly [string, string] {
  switch (phase) {
    case 'expand': return ['expanding', 'expanded']
    case 'contract': return ['completing (contract)', 'completed']
    case 'abort': return ['aborting', 'aborted']
    case 'uncontract': return ['reverting the contract of', 'reverted the contract of']
    case undefined: return direction === 'up' ? ['applying', 'applied'] : ['reverting', 'reverted']
  }
}

const BAR_WIDTH = 24

/** `  backfill graphics [██████░░░░] 52% 1,040,000/2,000,000 rows · 410,000 rows/s · 3 s left` */
export function backfillBar(progress: StrataEvents['backfill:progress']): string {
  const { table, rows, total, rowsPerSecond, etaMs } = progress
  const share = total > 0 ? Math.min(1, rows / total) : 1
  const filled = Math.round(share * BAR_WIDTH)
  const count = (n: number): string => n.toLocaleString('en-US')
  const left = share < 1 && etaMs !== null ? ` · ${Math.ceil(etaMs / 1000)} s left` : ''
  return `  backfill ${table} [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${Math.floor(share * 100)}% ${count(rows)}/${count(total)} rows · ${count(rowsPerSecond)} rows/s${left}`
}
