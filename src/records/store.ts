import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ResolvedConfig } from '../config/load-config.js'
import type { MigrationRecord } from './record.js'
import { redactJson } from '../errors/redact.js'
import { timeOfId } from '../util/ids.js'
import { renderMarkdown } from './record.js'

/**
 * Records on disk (SPEC S9): `records/<runId>.md` and `records/<runId>.json` in `records.dir`
 * beside the config. Without a config file there is no folder: records live in `strata_runs`.
 */
export function recordsDir(config: ResolvedConfig): string | null {
  if (config.file === null) return null
  return resolve(config.baseDir, config.raw.records?.dir ?? 'records')
}

/** Writes both files (credentials masked), each through a temporary file renamed into place. */
export function writeRecord(dir: string, record: MigrationRecord): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true })
  const safe = redactJson(record, 2)
  const json = join(dir, `${record.runId}.json`)
  const markdown = join(dir, `${record.runId}.md`)
  atomicWrite(json, `${safe.json}\n`)
  atomicWrite(markdown, renderMarkdown(safe.value))
  return { json, markdown }
}

/** Writes `text` through a temporary file renamed into place: a reader never sees half of it. */
export function atomicWrite(path: string, text: string, mode?: number): void {
  const temporary = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, text, mode === undefined ? {} : { mode })
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/** A record's JSON file (`<runId>.json`); the folder's own files (the estimate index) start with a dot. */
export function isRecordFile(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.')
}

/** How much later than its run id's time a record's `executionTime` may be (a run can wait for the lock first). */
const START_SLACK_MS = 86_400_000

/**
 * Every record in the folder, oldest first; files that are not records are named in `unreadable`.
 * With `since` (epoch ms), files whose name dates their run more than a day before it are not
 * read: a policy looking for a recent record does not parse years of history.
 */
export function readRecords(dir: string, options: { since?: number } = {}): { records: MigrationRecord[]; unreadable: string[] } {
  let names: string[]
  try {
    names = readdirSync(dir).filter(isRecordFile).sort()
  } catch {
    return { records: [], unreadable: [] }
  }
  const { since } = options
  if (since !== undefined) {
    names = names.filter((name) => {
      // A record file is named `<runId>.json`, and a run id starts with the run's time.
      const start = timeOfId(name.slice(0, -'.json'.length))
      return start === null || start + START_SLACK_MS >= since
    })
  }
  const records: MigrationRecord[] = []
  const unreadable: string[] = []
  for (const name of names) {
    try {
      const value = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<MigrationRecord>
      if (typeof value.runId !== 'string' || !Array.isArray(value.migrationIds)) throw new Error('not a migration record')
      records.push(value as MigrationRecord)
    } catch {
      unreadable.push(join(dir, name))
    }
  }
  records.sort((a, b) => a.executionTime.localeCompare(b.executionTime) || a.runId.localeCompare(b.runId))
  return { records, unreadable }
}
