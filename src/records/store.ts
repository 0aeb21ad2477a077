import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ResolvedConfig } from '../config/load-config.js'
import type { MigrationRecord } from './record.js'
import { redactRecord, renderMarkdown } from './record.js'

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
  const safe = redactRecord(record)
  const json = join(dir, `${record.runId}.json`)
  const markdown = join(dir, `${record.runId}.md`)
  atomicWrite(json, `${JSON.stringify(safe, null, 2)}\n`)
  atomicWrite(markdown, renderMarkdown(safe))
  return { json, markdown }
}

function atomicWrite(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  renameSync(temporary, path)
}

/** Every record in the folder, oldest first; files that are not records are named in `unreadable`. */
export function readRecords(dir: string): { records: MigrationRecord[]; unreadable: string[] } {
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort()
  } catch {
    return { records: [], unreadable: [] }
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

/** A step whose duration an earlier record may know. */
export interface EstimatedStep {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly phase?: string
  readonly checksum: string
}

/**
 * The estimated duration of `steps` (SPEC S9, S10): each step's duration in the newest earlier
 * record that ran it successfully with the same checksum, a rehearsal's first (its durations are
 * meant to become production's estimates), then any environment's; null when one step has none.
 */
export function estimateFrom(records: readonly MigrationRecord[], steps: readonly EstimatedStep[]): number | null {
  if (steps.length === 0) return null
  const ordered = [...records].reverse().sort((a, b) => Number(b.rehearsal === true) - Number(a.rehearsal === true))
  let total = 0
  for (const step of steps) {
    let found: number | null = null
    for (const record of ordered) {
      if (!record.success) continue
      const match = record.steps?.find((s) => s.revision === step.revision && s.direction === step.direction && (s.phase ?? null) === (step.phase ?? null)
        && s.checksum === step.checksum && s.durationMs !== null && (s.status === 'applied' || s.status === 'reverted'))
      if (match && match.durationMs !== null) {
        found = match.durationMs
        break
      }
    }
    if (found === null) return null
    total += found
  }
  return total
}
