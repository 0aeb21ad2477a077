import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { redactRecord, renderMarkdown, validationResults, type MigrationRecord } from '../../src/records/record.js'
import { readRecords, writeRecord } from '../../src/records/store.js'

const GOLDEN = join(import.meta.dirname, '..', 'golden')

/** The expected text of a golden file; `UPDATE_GOLDEN=1` rewrites it from `actual` (then review the diff). */
function golden(name: string, actual: string): string {
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(join(GOLDEN, name), actual)
  return readFileSync(join(GOLDEN, name), 'utf8')
}

/** The SOP's own example, as strata records it. */
const RECORD: MigrationRecord = {
  runId: '20251014T100000Z-3f9a1c',
  migrationIds: ['001_add_event_name_to_graphics'],
  date: '2025-10-14',
  author: 'dev@dashboard',
  description: 'Add event_name column to graphics table',
  databaseType: 'SQLite',
  migrationType: 'schema',
  environment: 'production',
  affectedTables: ['graphics'],
  estimatedDurationMs: 900_000,
  downtimeRequired: false,
  executionTime: '2025-10-14T10:00:00.000Z',
  durationMs: 720_000,
  success: true,
  issues: [],
  validationResults: validationResults(
    [{ name: 'lint', status: 'pass', message: '1 migration(s) linted, nothing found' }],
    [
      { name: 'schema', status: 'pass', message: '2 object(s) the run\'s ops promised are as promised' },
      { name: 'row-counts', status: 'pass', message: '3 table(s) no migration touched kept their row counts' },
      { name: 'consistency', status: 'pass', message: 'integrity_check ok, no foreign key violations' },
      { name: 'api-health', status: 'pass', message: 'GET http://127.0.0.1:8000/health answered 200' },
    ],
    new Set(['api-health']),
  ),
  rollback: { available: true, tested: true, timeMs: 480_000 },
  backupId: '20251014T095800Z-app',
  changeRequest: 'CR-2025-001',
  status: 'succeeded',
  command: 'up',
  by: 'dba@ops-host',
  steps: [{ revision: '001_add_event_name_to_graphics', direction: 'up', checksum: '97463e5f60281f8e', status: 'applied', durationMs: 720_000 }],
}

describe('the Migration Record', () => {
  it('renders the SOP template: five sections, the checks and the steps (golden file)', () => {
    expect(renderMarkdown(RECORD)).toBe(golden('migration-record.md', renderMarkdown(RECORD)))
  })

  it('renders a refused run with its issues and what is unknown', () => {
    const refused: MigrationRecord = {
      ...RECORD, success: false, status: 'refused', estimatedDurationMs: null, changeRequest: null, backupId: null, durationMs: 85,
      issues: ['E_POLICY: environment `production` requires an approved change request (require_change_request): no change request covers 001_add_event_name_to_graphics'],
      validationResults: validationResults([], [], new Set()), rollback: { available: true, tested: false, timeMs: null },
      steps: [{ ...RECORD.steps[0]!, status: 'pending', durationMs: null }],
    }
    expect(renderMarkdown(refused)).toBe(golden('migration-record-refused.md', renderMarkdown(refused)))
  })

  it('masks credentials in every string', () => {
    const leaked = redactRecord({ ...RECORD, issues: ['cannot connect to postgres://app:hunter2@db/prod', 'env PGPASSWORD=hunter3 DB_PASSWORD=hunter4 sh -c exit', 'GET /hook?token=hunter5&api_key=hunter6'] })
    for (const secret of ['hunter2', 'hunter3', 'hunter4', 'hunter5', 'hunter6']) expect(JSON.stringify(leaked)).not.toContain(secret)
    expect(leaked.issues[1]).toBe('env PGPASSWORD=**** DB_PASSWORD=**** sh -c exit')
    expect(renderMarkdown(leaked)).toContain('postgres://app:****@db/prod')
  })

  it('is written to disk masked, as JSON and Markdown, and reads back as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-record-'))
    try {
      const { json, markdown } = writeRecord(dir, { ...RECORD, issues: ['cannot connect to postgres://app:hunter2@db/prod', 'PGPASSWORD=hunter3 psql'] })
      for (const path of [json, markdown]) {
        const text = readFileSync(path, 'utf8')
        for (const secret of ['hunter2', 'hunter3']) expect(text).not.toContain(secret)
      }
      const [read] = readRecords(dir).records
      expect(read!.issues).toEqual(['cannot connect to postgres://app:****@db/prod', 'PGPASSWORD=**** psql'])
      expect(readFileSync(json, 'utf8')).toBe(`${JSON.stringify(read, null, 2)}\n`)
      expect(readFileSync(markdown, 'utf8')).toBe(renderMarkdown(read!))
      // Nothing to mask: the record is written as it is.
      writeRecord(dir, { ...RECORD, runId: '20251014T110000Z-000000' })
      expect(readRecords(dir).records.find((r) => r.runId === '20251014T110000Z-000000')).toEqual({ ...RECORD, runId: '20251014T110000Z-000000' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
