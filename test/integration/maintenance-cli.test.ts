import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { closeMaintenanceStatus, maintenanceStatus } from 'strata-migrate'
import { strata, useProject } from '../support/cli.js'

/** `strata maintenance on|off|status` through the CLI, read back by the exported helper (SPEC S10). */
describe('strata maintenance', () => {
  const project = useProject()
  const URL = ['--url', 'sqlite:app.db', '--migrations', 'migrations']

  it('turns the flag on and off; the application sees it through maintenanceStatus()', async () => {
    const off = strata(['maintenance', 'status', '--json', ...URL], project.dir)
    expect(off.code).toBe(0)
    expect(JSON.parse(off.stdout)).toEqual({ enabled: false, message: null, until: null, setBy: null, setAt: null })
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)

    // A broken migration file does not stand in the way of maintenance mode.
    project.write('001_broken.sql', 'no strata sections here')
    const on = strata(['maintenance', 'on', '--message', 'Upgrading the dashboard', '--until', '2030-05-01T12:00:00Z', ...URL], project.dir)
    expect(on.code, on.stderr).toBe(0)
    const status = JSON.parse(strata(['maintenance', 'status', '--json', ...URL], project.dir).stdout) as Record<string, unknown>
    expect(status).toMatchObject({ enabled: true, message: 'Upgrading the dashboard', until: '2030-05-01T12:00:00.000Z' })
    expect(typeof status['setBy']).toBe('string')
    const db = `sqlite:${join(project.dir, 'app.db')}`
    try {
      expect(await maintenanceStatus(db)).toEqual({ enabled: true, message: 'Upgrading the dashboard', until: '2030-05-01T12:00:00.000Z' })
      expect(strata(['maintenance', 'off', ...URL], project.dir).code).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 1_100))
      expect((await maintenanceStatus(db)).enabled).toBe(false)
    } finally {
      await closeMaintenanceStatus()
    }
    const bad = strata(['maintenance', 'on', '--until', 'next tuesday', ...URL], project.dir)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('error[E_USAGE]')
  })
})
