import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ROOT, tempDir } from '../support/cli.js'
import { columns, rows } from '../support/sqlite.js'

// The built package entry, as users import it (catches bundling and export mistakes); typed from src.
const { Strata, StrataError, migration } = (await import('../../dist/index.js' as string)) as typeof import('../../src/index.js')

describe('programmatic API from the built package', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = tempDir()))
  afterEach(() => cleanup())

  it('opens from a config file, reports status, plans, runs up and down, and emits events', async () => {
    cpSync(join(ROOT, 'examples', 'graphics-dashboard', 'migrations'), join(dir, 'migrations'), { recursive: true })
    writeFileSync(join(dir, 'strata.yaml'), 'environments:\n  development: { url: "sqlite:dash.db" }\n')
    const strata = await Strata.open({ config: join(dir, 'strata.yaml') })
    const before = await strata.status()
    expect(before.pending).toEqual(['000_initial_schema', '001_add_event_name_to_graphics'])
    const plan = await strata.plan()
    expect(plan.steps.map((s) => s.revision)).toEqual(before.pending)
    expect(plan.steps[1]!.ops).toEqual(['alter table graphics (add column graphics.event_name; create index idx_graphics_event_name on graphics)'])

    const events: string[] = []
    strata.on('run:start', (e) => events.push(`start ${e.steps.length}`))
    strata.on('migration:done', (e) => events.push(`done ${e.revision}`))
    strata.on('run:done', (e) => events.push(`end ${e.status}`))
    const result = await strata.up()
    expect(result.report.results.map((r) => r.status)).toEqual(['applied', 'applied'])
    expect(events).toEqual(['start 2', 'done 000_initial_schema', 'done 001_add_event_name_to_graphics', 'end succeeded'])
    expect(columns(join(dir, 'dash.db'), 'graphics')).toContain('event_name')

    await strata.down('base')
    expect(rows(join(dir, 'dash.db'), "SELECT name FROM sqlite_master WHERE name = 'graphics'")).toEqual([])
    const history = await strata.history()
    expect(history.log.map((l) => `${l.action} ${l.revision}`)).toEqual([
      'apply 000_initial_schema', 'apply 001_add_event_name_to_graphics',
      'revert 001_add_event_name_to_graphics', 'revert 000_initial_schema',
    ])
  })

  it('throws StrataError with a stable code and the run report', async () => {
    mkdirSync(join(dir, 'migrations'))
    writeFileSync(join(dir, 'migrations', '001_bad.sql'), '-- strata:up\nCREATE TABLE x (id INTEGER);\nSELECT * FROM nowhere;\n')
    const strata = await Strata.open({ url: `sqlite:${join(dir, 'x.db')}`, migrations: join(dir, 'migrations') })
    const error = await strata.up().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StrataError)
    expect((error as InstanceType<typeof StrataError>).code).toBe('E_MIGRATION_FAILED')
    expect((error as InstanceType<typeof StrataError>).exitCode).toBe(1)
    const report = (error as InstanceType<typeof StrataError>).details['report'] as { results: Array<{ status: string }>; state: string }
    expect(report.results.map((r) => r.status)).toEqual(['failed'])
    expect(report.state).toBe('pre-run')
  })

  it('migration() tags the options it is given', () => {
    const m = migration({ up() {} })
    expect(typeof m.up).toBe('function')
    expect(Object.isFrozen(m)).toBe(true)
  })
})
