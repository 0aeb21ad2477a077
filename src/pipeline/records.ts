import { StrataError } from '../errors/index.js'
import { renderMarkdown, type MigrationRecord } from '../records/record.js'
import { readRecords, recordsDir } from '../records/store.js'
import { readOnly, type Project } from './session.js'

/**
 * `strata record list|show` (SPEC S9): the records in `records.dir` beside the config (every
 * environment's runs, rehearsals included); without a config file, the records kept in this
 * database's `strata_runs`.
 */
export async function listRecords(project: Project): Promise<MigrationRecord[]> {
  const dir = recordsDir(project.config)
  if (dir) {
    const { records, unreadable } = readRecords(dir)
    for (const file of unreadable) project.events.emit('log', { level: 'warn', message: `${file} is not a migration record; skipped` })
    return records
  }
  return readOnly(project, async (conn) => {
    if (!(await project.history.exists(conn))) return []
    const runs = await project.history.runs(conn)
    return runs.flatMap((run) => {
      const record = (run.report as { record?: MigrationRecord } | null)?.record
      return record ? [record] : []
    })
  })
}

/** One record by run id (or an unambiguous prefix of one), with its Markdown. */
export async function showRecord(project: Project, runId: string): Promise<{ record: MigrationRecord; markdown: string }> {
  const records = await listRecords(project)
  const exact = records.find((r) => r.runId === runId)
  const matches = exact ? [exact] : records.filter((r) => r.runId.startsWith(runId))
  if (matches.length === 1) return { record: matches[0]!, markdown: renderMarkdown(matches[0]!) }
  const where = recordsDir(project.config) ?? `${project.config.tablePrefix}runs`
  if (matches.length === 0) {
    throw new StrataError('E_USAGE', `no migration record of run \`${runId}\` in ${where}`, { hint: 'run `strata record list` for the recorded runs' })
  }
  throw new StrataError('E_USAGE', `run id \`${runId}\` is ambiguous: ${matches.map((r) => r.runId).join(', ')}`, { hint: 'give more characters of the run id' })
}
