import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'

/** `strata cr new|approve|show|list` through the CLI (SPEC S9), on the SOP's flagship example. */
describe('strata cr', () => {
  const project = useProject()
  const EVENT = '-- strata:up\nALTER TABLE graphics ADD COLUMN event_name varchar(80);\n-- strata:down\nALTER TABLE graphics DROP COLUMN event_name;\n'

  const setup = (extra = ''): void => {
    writeFileSync(join(project.dir, 'strata.yaml'), `migrations: migrations\nenvironments:\n  production: { url: "sqlite:app.db" }\n${extra}`)
    project.write('001_graphics.sql', '-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY);\n-- strata:down\nDROP TABLE graphics;\n')
    project.write('002_event.sql', EVENT)
  }

  it('writes CR-YYYY-NNN.yaml for the pending migrations, records approvals with checksums, and voids one when a migration changes', () => {
    setup()
    const year = new Date().getUTCFullYear()
    const created = strata(['cr', 'new', 'Add', 'event_name', 'to', 'graphics', '--json'], project.dir)
    expect(created.code).toBe(0)
    const { id, path, migrations } = JSON.parse(created.stdout) as { id: string; path: string; migrations: string[] }
    expect(id).toBe(`CR-${year}-001`)
    expect(path).toBe(join(project.dir, 'changes', `${id}.yaml`))
    expect(migrations).toEqual(['001_graphics', '002_event'])
    const text = readFileSync(path, 'utf8')
    for (const key of ['id:', 'title:', 'summary:', 'business_justification:', 'technical_details:', 'risk_assessment:', 'testing_plan:', 'rollback_plan:', 'schedule:', 'migrations:', 'approvals:']) {
      expect(text).toContain(key)
    }
    expect(JSON.parse(strata(['cr', 'new', 'Second', '--revisions', '002_event', '--json'], project.dir).stdout)).toMatchObject({ id: `CR-${year}-002`, migrations: ['002_event'] })

    expect(strata(['cr', 'approve', id, '--role', 'technical', '--as', 'ana@example.com'], project.dir).code).toBe(0)
    // The same person for a second role: refused (exit 3), the file byte for byte as it was.
    const before = readFileSync(path, 'utf8')
    const twice = strata(['cr', 'approve', id, '--role', 'business', '--as', 'ana@example.com'], project.dir)
    expect(twice.code).toBe(3)
    expect(twice.stderr).toContain('error[E_POLICY]')
    expect(readFileSync(path, 'utf8')).toBe(before)
    expect(strata(['cr', 'approve', id, '--role', 'business', '--as', 'ben@example.com'], project.dir).code).toBe(0)
    expect(strata(['cr', 'approve', id, '--role', 'security', '--as', 'cy@example.com'], project.dir).code).toBe(0)

    type Shown = { approved: boolean; missing: string[]; approvals: Array<Record<string, unknown> & { role: string; by: string; at: string; valid: boolean }>; voided: Array<{ role: string; reason: string }> }
    const shown = JSON.parse(strata(['cr', 'show', id, '--json'], project.dir).stdout) as Shown
    expect(shown.approved).toBe(true)
    expect(shown.approvals.map(({ role, by, valid }) => ({ role, by, valid }))).toEqual([
      { role: 'technical', by: 'ana@example.com', valid: true },
      { role: 'business', by: 'ben@example.com', valid: true },
      { role: 'security', by: 'cy@example.com', valid: true },
    ])
    expect(shown.approvals.every((a) => !Number.isNaN(Date.parse(a.at)))).toBe(true)

    project.write('002_event.sql', EVENT.replace('varchar(80)', 'varchar(120)'))
    const voided = JSON.parse(strata(['cr', 'show', id, '--json'], project.dir).stdout) as Shown
    expect(voided.approved).toBe(false)
    expect(voided.approvals.map((a) => a.valid)).toEqual([false, false, false])
    expect(Object.keys(voided.approvals[0]!).sort()).toEqual(['at', 'by', 'role', 'valid'])
    expect(voided.voided.map((v) => v.role)).toEqual(['technical', 'business', 'security'])
    expect(voided.voided[0]!.reason).toContain('002_event')
    const human = strata(['cr', 'show', id], project.dir)
    expect(human.code).toBe(0)
    expect(`${human.stdout}${human.stderr}`).toMatch(/void/i)

    const listed = JSON.parse(strata(['cr', 'list', '--json'], project.dir).stdout) as { changeRequests: Array<{ id: string; approved: boolean }> }
    expect(listed.changeRequests.map((c) => [c.id, c.approved])).toEqual([[id, false], [`CR-${year}-002`, false]])
  })

  it('allow_same_approver lets one person fill every role', () => {
    setup('change_requests: { allow_same_approver: true }\n')
    const { id } = JSON.parse(strata(['cr', 'new', 'Solo', '--json'], project.dir).stdout) as { id: string }
    for (const role of ['technical', 'business', 'security']) expect(strata(['cr', 'approve', id, '--role', role, '--as', 'solo@example.com'], project.dir).code).toBe(0)
    expect((JSON.parse(strata(['cr', 'show', id, '--json'], project.dir).stdout) as { approved: boolean }).approved).toBe(true)
  })

  it('bad input: no config file, an unknown id, an unknown role, an unknown revision', () => {
    project.write('001_graphics.sql', '-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY);\n-- strata:down\nDROP TABLE graphics;\n')
    const noConfig = strata(['cr', 'list', '--url', 'sqlite:app.db'], project.dir)
    expect(noConfig.code).toBe(2)
    expect(noConfig.stderr).toContain('error[E_CONFIG]')
    setup()
    const unknown = strata(['cr', 'show', 'CR-2020-009'], project.dir)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('CR-2020-009')
    const { id } = JSON.parse(strata(['cr', 'new', 'T', '--json'], project.dir).stdout) as { id: string }
    const role = strata(['cr', 'approve', id, '--role', 'legal', '--as', 'x@example.com'], project.dir)
    expect(role.code).toBe(2)
    expect(role.stderr).toContain('legal')
    const revision = strata(['cr', 'new', 'T', '--revisions', '999_nope'], project.dir)
    expect(revision.code).toBe(2)
    expect(revision.stderr).toContain('999_nope')
  })
})
