import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

/**
 * What deploy and rehearse must not do (SPEC S9, S10, S12): disturb the application or replace a
 * database before the environment's rules allow the run, undo an operator's maintenance, or lose
 * writes on a rollback.
 */

const GRAPHICS = "-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics (id, title) VALUES (1, 'launch');\n-- strata:down\nDROP TABLE graphics;\n"
const EVENT = '-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(80);\n-- strata:down\nALTER TABLE graphics DROP COLUMN event_name;\n'
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

describe('deploy and rehearse guards (SQLite)', () => {
  const project = useProject()
  const config = (production: string, extra = ''): void => writeFileSync(join(project.dir, 'strata.yaml'),
    `migrations: migrations\nenvironments:\n  production: { url: "sqlite:live.db", policy: ${production} }\n  staging: { url: "sqlite:staging.db" }\n${extra}`)
  const setup = (): void => {
    config('{}')
    project.write('001_graphics.sql', GRAPHICS)
    expect(strata(['up', '--env', 'production'], project.dir).code).toBe(0)
    project.write('002_event.sql', EVENT)
  }
  const live = (): string => join(project.dir, 'live.db')
  const maintenanceRows = (path: string): unknown[] => rows(path, "SELECT name FROM sqlite_master WHERE name = 'strata_maintenance'").length === 0
    ? [] : rows(path, 'SELECT enabled, message FROM strata_maintenance')

  it('a rolling deploy the window refuses never turns maintenance on (exit 3, recorded)', () => {
    setup()
    const tomorrow = DAYS[(new Date().getUTCDay() + 1) % 7]
    config(`{ strategy: rolling, maintenance_window: "${tomorrow} 00:00-23:59 UTC" }`)
    const run = strata(['deploy', '--env', 'production'], project.dir)
    expect(run.code).toBe(3)
    expect(run.stderr).not.toContain('maintenance mode on')
    expect(maintenanceRows(live())).toEqual([])
    expect(rows(live(), "SELECT status FROM strata_runs ORDER BY started_at DESC LIMIT 1")).toEqual([{ status: 'refused' }])
  })

  it("a rolling deploy leaves an operator's maintenance on, with the operator's message", () => {
    setup()
    config('{ strategy: rolling }')
    expect(strata(['maintenance', 'on', '--message', 'Planned outage', '--env', 'production'], project.dir).code).toBe(0)
    const run = strata(['deploy', '--env', 'production'], project.dir)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('maintenance mode is already on')
    expect(maintenanceRows(live())).toEqual([{ enabled: 1, message: 'Planned outage' }])
  })

  it('deploy needs a config with environments (exit 2)', () => {
    project.write('001_graphics.sql', GRAPHICS)
    const run = strata(['deploy', '--url', 'sqlite:x.db', '--migrations', 'migrations'], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error[E_CONFIG]')
  })

  it('a rehearsal into an environment whose rules refuse it replaces nothing there', () => {
    setup()
    writeFileSync(join(project.dir, 'strata.yaml'), 'migrations: migrations\nenvironments:\n  production: { url: "sqlite:live.db", policy: { confirm: true } }\n  staging: { url: "sqlite:staging.db" }\n')
    expect(strata(['up', '--env', 'staging'], project.dir).code).toBe(0)
    const run = strata(['rehearse', '--from', 'staging', '--to', 'production'], project.dir)
    expect(run.code).toBe(3)
    expect(run.stderr).not.toContain('copying')
    // Only the refusal is recorded in production; its tables and rows are as they were.
    expect(rows(live(), 'SELECT id, title FROM graphics')).toEqual([{ id: 1, title: 'launch' }])
    expect(rows(live(), "SELECT status FROM strata_runs ORDER BY started_at DESC LIMIT 1")).toEqual([{ status: 'refused' }])
  })

  it('after blue-green: a rolling deploy writes maintenance where applications read it; --rollback refuses once the new database took writes, and asks for confirm', () => {
    setup()
    config('{ strategy: blue-green }')
    const green = JSON.parse(strata(['deploy', '--env', 'production', '--json'], project.dir).stdout) as { pointer: { active: string } }
    project.write('003_more.sql', '-- strata:up\nCREATE TABLE more (id integer);\n-- strata:down\nDROP TABLE more;\n')
    expect(strata(['deploy', '--strategy', 'rolling', '--env', 'production'], project.dir).code).toBe(0)
    expect(maintenanceRows(live())).toEqual([{ enabled: 0, message: expect.stringContaining('deploying to production') }])
    expect(maintenanceRows(green.pointer.active)).toEqual([])

    // The rolling deploy wrote to the database in use after the switch: going back would lose it.
    const refused = strata(['deploy', '--rollback', '--env', 'production'], project.dir)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('took writes since the switch')
    expect(rows(live(), 'SELECT active FROM strata_deployment')).toEqual([{ active: green.pointer.active }])

    // A fresh switch, then confirm: refused without --yes, done with it.
    project.write('004_last.sql', '-- strata:up\nCREATE TABLE last_one (id integer);\n-- strata:down\nDROP TABLE last_one;\n')
    const again = JSON.parse(strata(['deploy', '--strategy', 'blue-green', '--env', 'production', '--json'], project.dir).stdout) as { pointer: { active: string; previous: string } }
    config('{ strategy: blue-green, confirm: true }')
    const unconfirmed = strata(['deploy', '--rollback', '--env', 'production'], project.dir)
    expect(unconfirmed.code).toBe(3)
    expect(unconfirmed.stderr).toContain('requires confirmation')
    expect(strata(['deploy', '--rollback', '--yes', '--env', 'production'], project.dir).code).toBe(0)
    expect(rows(live(), 'SELECT active FROM strata_deployment')).toEqual([{ active: again.pointer.previous }])
  })
})
