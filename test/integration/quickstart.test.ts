import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { copyExample, strata } from '../support/cli.js'
import { columns, indexes, rows } from '../support/sqlite.js'

describe('quick start on the graphics dashboard example', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = copyExample('graphics-dashboard')))
  afterEach(() => cleanup())

  it('creates the database, applies both migrations with progress, and exits 0', () => {
    const db = join(dir, 'dashboard.db')
    expect(existsSync(db)).toBe(false)
    const run = strata(['up', '--config', 'strata.yaml'], dir)
    expect(run.stderr).not.toContain('error[')
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('[1/2] applied 000_initial_schema')
    expect(run.stderr).toContain('[2/2] applied 001_add_event_name_to_graphics')
    expect(columns(db, 'graphics')).toContain('event_name')
    expect(indexes(db, 'graphics')).toContain('idx_graphics_event_name')
    expect(rows(db, 'SELECT count(*) AS n FROM graphics')).toEqual([{ n: 5 }])
    expect(rows(db, 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([
      { revision: '000_initial_schema' },
      { revision: '001_add_event_name_to_graphics' },
    ])
  })

  it('says there is nothing to do on a second run', () => {
    expect(strata(['up', '--config', 'strata.yaml'], dir).code).toBe(0)
    const again = strata(['up', '--config', 'strata.yaml'], dir)
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/nothing to do/)
    expect(again.stderr).not.toContain('applied 000')
  })

  it('down 000_initial_schema removes exactly the column and the index and keeps every row', () => {
    const db = join(dir, 'dashboard.db')
    expect(strata(['up', '--config', 'strata.yaml'], dir).code).toBe(0)
    const before = rows(db, 'SELECT id, title, graphic_type, payload, is_live, created_at FROM graphics ORDER BY id')
    const columnsBefore = columns(db, 'graphics')
    const down = strata(['down', '000_initial_schema', '--config', 'strata.yaml'], dir)
    expect(down.stderr).not.toContain('error[')
    expect(down.code).toBe(0)
    expect(down.stderr).toContain('reverted 001_add_event_name_to_graphics')
    expect(columns(db, 'graphics')).toEqual(columnsBefore.filter((c) => c !== 'event_name'))
    expect(indexes(db, 'graphics')).not.toContain('idx_graphics_event_name')
    expect(rows(db, 'SELECT id, title, graphic_type, payload, is_live, created_at FROM graphics ORDER BY id')).toEqual(before)
    expect(rows(db, 'SELECT revision FROM strata_history')).toEqual([{ revision: '000_initial_schema' }])
  })

  it('status --json has exactly the documented shape', () => {
    expect(strata(['up', '000_initial_schema', '--config', 'strata.yaml'], dir).code).toBe(0)
    const status = strata(['status', '--json', '--config', 'strata.yaml'], dir)
    expect(status.code).toBe(0)
    const doc = JSON.parse(status.stdout) as Record<string, unknown>
    expect(Object.keys(doc)).toEqual(['environment', 'database', 'applied', 'current', 'heads', 'pending', 'modified', 'missing', 'drift'])
    expect(doc['environment']).toBe('development')
    expect(doc['database']).toEqual({ dialect: 'sqlite', url: `sqlite:${join(dir, 'dashboard.db')}` })
    expect(doc['current']).toEqual(['000_initial_schema'])
    expect(doc['heads']).toEqual(['001_add_event_name_to_graphics'])
    expect(doc['pending']).toEqual(['001_add_event_name_to_graphics'])
    expect(doc['modified']).toEqual([])
    expect(doc['missing']).toEqual([])
    expect(doc['drift']).toBeNull()
    const applied = doc['applied'] as Array<Record<string, unknown>>
    expect(applied).toHaveLength(1)
    expect(Object.keys(applied[0]!)).toEqual(['revision', 'appliedAt', 'checksum', 'state'])
    expect(applied[0]!['state']).toBe('applied')
    expect(applied[0]!['checksum']).toMatch(/^[0-9a-f]{64}$/)
  })

  it('status reports drift with the objects that differ', () => {
    expect(strata(['up', '--config', 'strata.yaml'], dir).code).toBe(0)
    const db = new Database(join(dir, 'dashboard.db'))
    db.exec('ALTER TABLE graphics ADD COLUMN sneaky TEXT; CREATE TABLE side (x INTEGER)')
    db.close()
    const status = JSON.parse(strata(['status', '--json', '--config', 'strata.yaml'], dir).stdout) as { drift: unknown }
    expect(status.drift).toEqual({
      objects: [
        { kind: 'column', name: 'graphics.sneaky', change: 'added' },
        { kind: 'table', name: 'side', change: 'added' },
      ],
    })
  })

  it('plan --sql prints the SQL without a database', () => {
    const plan = strata(['plan', '--sql', '--config', 'strata.yaml'], dir)
    expect(plan.code).toBe(0)
    expect(plan.stdout).toMatch(/CREATE TABLE "graphics"/)
    expect(plan.stdout).toMatch(/ALTER TABLE "graphics" ADD COLUMN "event_name"/)
    expect(plan.stdout).toMatch(/CREATE INDEX "idx_graphics_event_name"/)
    expect(existsSync(join(dir, 'dashboard.db'))).toBe(false)
  })
})
