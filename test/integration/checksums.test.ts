import { appendFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { URL_ARGS, strata, useProject } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

const ARGS = URL_ARGS

describe('checksums of applied migrations', () => {
  const project = useProject()
  beforeEach(() => {
    const dir = project.dir
    writeFileSync(join(dir, 'migrations', '001_a.sql'), '-- strata:up\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE a;\n')
    writeFileSync(join(dir, 'migrations', '002_b.sql'), '-- strata:up\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE b;\n')
    expect(strata(['up', ...ARGS], dir).code).toBe(0)
    writeFileSync(join(dir, 'migrations', '003_c.sql'), '-- strata:up\nCREATE TABLE c (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE c;\n')
  })

  it('ignores line-ending and trailing-space changes', () => {
    writeFileSync(join(project.dir, 'migrations', '001_a.sql'), '-- strata:up  \r\nCREATE TABLE a (id INTEGER PRIMARY KEY);\t\r\n-- strata:down\r\nDROP TABLE a;\r\n')
    const status = JSON.parse(strata(['status', '--json', ...ARGS], project.dir).stdout) as { modified: string[] }
    expect(status.modified).toEqual([])
  })

  it('status lists modified and missing files; up and down refuse with exit 3 until repair', () => {
    appendFileSync(join(project.dir, 'migrations', '001_a.sql'), '-- a comment added later\n')
    renameSync(join(project.dir, 'migrations', '002_b.sql'), join(project.dir, 'b.sql.bak'))
    const status = strata(['status', '--json', ...ARGS], project.dir)
    expect(status.code).toBe(0)
    const doc = JSON.parse(status.stdout) as { modified: string[]; missing: string[]; pending: string[] }
    expect(doc.modified).toEqual(['001_a'])
    expect(doc.missing).toEqual(['002_b'])

    // With 002_b gone, 003_c's default parent is 001_a.
    const up = strata(['up', ...ARGS], project.dir)
    expect(up.code).toBe(3)
    expect(up.stderr).toContain('error[E_CHECKSUM]')
    expect(up.stderr).toContain('001_a')
    expect(up.stderr).toContain('002_b')
    expect(up.stderr).toContain('strata repair')
    expect(strata(['down', 'base', ...ARGS], project.dir).code).toBe(3)
    expect(rows(join(project.dir, 'app.db'), "SELECT name FROM sqlite_master WHERE name = 'c'")).toEqual([])
    expect(rows(join(project.dir, 'app.db'), "SELECT status FROM strata_runs WHERE command IN ('up', 'down') ORDER BY started_at").map((r) => (r as { status: string }).status)).toEqual(['succeeded', 'refused', 'refused'])

    const repair = strata(['repair', ...ARGS], project.dir)
    expect(repair.code).toBe(0)
    expect(repair.stderr).toContain('re-stamped checksum of 001_a')
    expect(repair.stderr).toContain('removed history of 002_b')
    const log = rows<{ revision: string; action: string }>(join(project.dir, 'app.db'), "SELECT revision, action FROM strata_log WHERE action = 'repair' ORDER BY seq")
    expect(log).toEqual([
      { revision: '001_a', action: 'repair' },
      { revision: '002_b', action: 'repair' },
    ])
    const again = strata(['up', ...ARGS], project.dir)
    expect(again.code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT revision FROM strata_history ORDER BY revision')).toEqual([{ revision: '001_a' }, { revision: '003_c' }])
  })

  it('restoring the original file clears the refusal', () => {
    const path = join(project.dir, 'migrations', '001_a.sql')
    writeFileSync(path, '-- strata:up\nCREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);\n-- strata:down\nDROP TABLE a;\n')
    expect(strata(['up', ...ARGS], project.dir).code).toBe(3)
    writeFileSync(path, '-- strata:up\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n-- strata:down\nDROP TABLE a;\n')
    expect(strata(['up', ...ARGS], project.dir).code).toBe(0)
  })
})
