import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  approvalFor,
  approveChangeRequest,
  changeRequestSettings,
  createChangeRequest,
  describeMissing,
  evaluateApprovals,
  listChangeRequests,
  nextChangeRequestId,
  readChangeRequest,
  viewChangeRequest,
  type ApprovalInput,
} from '../../src/changes/change-requests.js'
import { loadConfig } from '../../src/config/load-config.js'
import { StrataError } from '../../src/errors/index.js'
import { errorOf } from '../support/errors.js'

let dir: string
let changes: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-cr-'))
  changes = join(dir, 'changes')
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const CHECKSUMS: ReadonlyMap<string, string> = new Map([
  ['001_init', 'a'.repeat(64)],
  ['002_event', 'b'.repeat(64)],
  ['003_index', 'c'.repeat(64)],
])

const at = (iso: string) => () => new Date(iso)

function draft(migrations: readonly string[] = ['001_init', '002_event'], title = 'Add event_name to graphics') {
  return { title, requester: 'dev@example.com', migrations }
}

function approveAs(id: string, role: string, by: string, extra: Partial<ApprovalInput> = {}) {
  return approveChangeRequest(changes, id, { role, by, checksums: CHECKSUMS, allowSameApprover: false, ...extra })
}

/** Approves all three roles by three different people. */
function approveAll(id: string): void {
  approveAs(id, 'technical', 'tech@example.com', { now: at('2026-03-01T10:00:00Z') })
  approveAs(id, 'business', 'biz@example.com', { now: at('2026-03-01T11:00:00Z') })
  approveAs(id, 'security', 'sec@example.com', { now: at('2026-03-01T12:00:00Z') })
}

describe('numbering', () => {
  it('runs per UTC year, three digits, restarting at 001 in a new year', () => {
    expect(nextChangeRequestId(changes, new Date('2026-12-31T23:59:00Z'))).toBe('CR-2026-001')
    const first = createChangeRequest(changes, draft(), { now: at('2026-12-31T23:59:00Z') })
    const second = createChangeRequest(changes, draft(), { now: at('2026-12-31T23:59:30Z') })
    const third = createChangeRequest(changes, draft(), { now: at('2027-01-01T00:01:00Z') })
    expect([first.request.id, second.request.id, third.request.id]).toEqual(['CR-2026-001', 'CR-2026-002', 'CR-2027-001'])
    expect(first.path).toBe(join(changes, 'CR-2026-001.yaml'))
    expect(nextChangeRequestId(changes, new Date('2027-06-01T00:00:00Z'))).toBe('CR-2027-002')
  })

  it('follows the highest existing number of the year, not the count', () => {
    createChangeRequest(changes, draft(), { now: at('2026-01-01T00:00:00Z') })
    const text = readFileSync(join(changes, 'CR-2026-001.yaml'), 'utf8').replace('CR-2026-001', 'CR-2026-041')
    writeFileSync(join(changes, 'CR-2026-041.yaml'), text)
    rmSync(join(changes, 'CR-2026-001.yaml'))
    expect(nextChangeRequestId(changes, new Date('2026-05-01T00:00:00Z'))).toBe('CR-2026-042')
  })

  it('uses the UTC year, not the local one', () => {
    // 2026-12-31T23:30-05:00 is already 2027 in UTC.
    const entry = createChangeRequest(changes, draft(), { now: () => new Date('2026-12-31T23:30:00-05:00') })
    expect(entry.request.id).toBe('CR-2027-001')
  })
})

describe('cr new file', () => {
  it('has every SPEC S9 key, the title as summary, empty prose and no approvals', () => {
    const entry = createChangeRequest(changes, draft(), { now: at('2026-03-01T09:00:00Z') })
    const text = readFileSync(entry.path, 'utf8')
    const data = parse(text) as Record<string, unknown>
    for (const key of ['id', 'title', 'summary', 'business_justification', 'technical_details', 'risk_assessment', 'testing_plan', 'rollback_plan', 'schedule', 'migrations', 'approvals', 'requester', 'created_at']) {
      expect(data).toHaveProperty(key)
    }
    expect(data).toMatchObject({
      id: 'CR-2026-001',
      title: 'Add event_name to graphics',
      summary: 'Add event_name to graphics',
      business_justification: '',
      rollback_plan: '',
      requester: 'dev@example.com',
      created_at: '2026-03-01T09:00:00.000Z',
      migrations: ['001_init', '002_event'],
      approvals: {},
    })
    expect(text.startsWith('#')).toBe(true)
    expect(text).toMatch(/fill in every field below before asking for approvals/i)
  })

  it('refuses an empty title and an empty list of migrations', () => {
    expect(errorOf(() => createChangeRequest(changes, draft([], 'x'))).code).toBe('E_USAGE')
    expect(errorOf(() => createChangeRequest(changes, draft(['001_init'], '  '))).code).toBe('E_USAGE')
  })

  it('quotes revision ids that look like numbers so they read back as text', () => {
    const entry = createChangeRequest(changes, draft(['001']))
    expect(readChangeRequest(changes, entry.request.id).request.migrations).toEqual(['001'])
  })
})

describe('approvals', () => {
  it('is approved once three different people approved the three roles', () => {
    const { request } = createChangeRequest(changes, draft(), { now: at('2026-03-01T09:00:00Z') })
    approveAs(request.id, 'technical', 'tech@example.com')
    approveAs(request.id, 'business', 'biz@example.com')
    const partial = viewChangeRequest(readChangeRequest(changes, request.id), CHECKSUMS, false)
    expect(partial.approved).toBe(false)
    expect(partial.missing).toEqual(['security'])
    approveAs(request.id, 'security', 'sec@example.com', { now: at('2026-03-02T08:00:00Z') })
    const view = viewChangeRequest(readChangeRequest(changes, request.id), CHECKSUMS, false)
    expect(view.approved).toBe(true)
    expect(view.missing).toEqual([])
    expect(view.approvals.map((a) => [a.role, a.by, a.valid])).toEqual([
      ['technical', 'tech@example.com', true],
      ['business', 'biz@example.com', true],
      ['security', 'sec@example.com', true],
    ])
    expect(view.approvals[2]).toEqual({ role: 'security', by: 'sec@example.com', at: '2026-03-02T08:00:00.000Z', valid: true })
  })

  it('writes each approval with by, at and the checksum of every covered migration', () => {
    const { request, path } = createChangeRequest(changes, draft())
    approveAs(request.id, 'technical', 'tech@example.com', { now: at('2026-03-01T10:00:00Z') })
    const data = parse(readFileSync(path, 'utf8')) as { approvals: Record<string, unknown> }
    expect(data.approvals).toEqual({
      technical: { by: 'tech@example.com', at: '2026-03-01T10:00:00.000Z', checksums: { '001_init': 'a'.repeat(64), '002_event': 'b'.repeat(64) } },
    })
  })

  it('keeps the comments and the keys an author added when it rewrites the file', () => {
    const { request, path } = createChangeRequest(changes, draft())
    writeFileSync(path, `${readFileSync(path, 'utf8')}ticket: OPS-1234 # the tracker's id\n`)
    approveAs(request.id, 'technical', 'tech@example.com')
    const text = readFileSync(path, 'utf8')
    expect(text).toContain("ticket: OPS-1234 # the tracker's id")
    expect(text).toMatch(/^# Change request CR-\d{4}-001/)
    expect(text).toMatch(/^approvals:\n {2}technical:\n {4}by: tech@example.com$/m)
  })

  it('refuses (E_POLICY, exit 3, file unchanged) a person who approved another role', () => {
    const { request, path } = createChangeRequest(changes, draft())
    approveAs(request.id, 'technical', 'alice@example.com')
    const before = readFileSync(path)
    const error = errorOf(() => approveAs(request.id, 'business', 'Alice@Example.com'))
    expect(error.code).toBe('E_POLICY')
    expect(error.exitCode).toBe(3)
    expect(error.message).toContain('already approved the technical role')
    expect(error.hint).toContain('allow_same_approver')
    expect(readFileSync(path).equals(before)).toBe(true)
  })

  it('lets one person hold several roles with allow_same_approver', () => {
    const { request } = createChangeRequest(changes, draft())
    for (const role of ['technical', 'business', 'security']) approveAs(request.id, role, 'solo@example.com', { allowSameApprover: true })
    const entry = readChangeRequest(changes, request.id)
    expect(viewChangeRequest(entry, CHECKSUMS, true).approved).toBe(true)
    // The same file judged without the relaxation: only the first approval by that person counts.
    const strict = viewChangeRequest(entry, CHECKSUMS, false)
    expect(strict.approved).toBe(false)
    expect(strict.approvals.filter((a) => a.valid).map((a) => a.role)).toEqual(['technical'])
  })

  it('replaces a role approval when the role is approved again', () => {
    const { request } = createChangeRequest(changes, draft())
    approveAs(request.id, 'technical', 'tech@example.com')
    const result = approveAs(request.id, 'technical', 'lead@example.com')
    expect(result.replaced?.by).toBe('tech@example.com')
    expect(result.entry.request.approvals.technical?.by).toBe('lead@example.com')
  })

  it('voids an approval when a covered migration changes, and re-approval restores it', () => {
    const { request } = createChangeRequest(changes, draft(), { now: at('2026-03-01T09:00:00Z') })
    approveAll(request.id)
    const edited = new Map(CHECKSUMS).set('002_event', 'd'.repeat(64))
    const view = viewChangeRequest(readChangeRequest(changes, request.id), edited, false)
    expect(view.approved).toBe(false)
    expect(view.missing).toEqual(['technical', 'business', 'security'])
    expect(view.approvals[0]).toMatchObject({ role: 'technical', valid: false, reason: '002_event changed since it was approved' })
    // A change to a migration the request does not cover voids nothing.
    const unrelated = new Map(CHECKSUMS).set('003_index', 'e'.repeat(64))
    expect(viewChangeRequest(readChangeRequest(changes, request.id), unrelated, false).approved).toBe(true)

    for (const [role, by] of [['technical', 'tech@example.com'], ['business', 'biz@example.com'], ['security', 'sec@example.com']] as const) {
      approveAs(request.id, role, by, { checksums: edited })
    }
    expect(viewChangeRequest(readChangeRequest(changes, request.id), edited, false).approved).toBe(true)
  })

  it('voids an approval when a covered migration file no longer exists, and refuses to approve it', () => {
    const { request } = createChangeRequest(changes, draft())
    approveAll(request.id)
    const deleted = new Map(CHECKSUMS)
    deleted.delete('001_init')
    const view = viewChangeRequest(readChangeRequest(changes, request.id), deleted, false)
    expect(view.approved).toBe(false)
    expect(view.approvals[1]).toMatchObject({ valid: false, reason: '001_init no longer exists' })
    const error = errorOf(() => approveAs(request.id, 'technical', 'tech@example.com', { checksums: deleted }))
    expect(error.code).toBe('E_UNKNOWN_REVISION')
    expect(error.message).toContain('001_init')
  })

  it('voids an approval given before a revision was added to the request', () => {
    const { request, path } = createChangeRequest(changes, draft(['001_init']))
    approveAll(request.id)
    writeFileSync(path, readFileSync(path, 'utf8').replace('  - 001_init\n', '  - 001_init\n  - 002_event\n'))
    const view = viewChangeRequest(readChangeRequest(changes, request.id), CHECKSUMS, false)
    expect(view.approved).toBe(false)
    expect(view.approvals[0]?.reason).toBe('002_event was added to the change request after it was approved')
  })

  it('refuses an unknown role and an unknown id with E_USAGE', () => {
    const { request } = createChangeRequest(changes, draft())
    expect(errorOf(() => approveAs(request.id, 'legal', 'x@example.com')).code).toBe('E_USAGE')
    const unknown = errorOf(() => approveAs('CR-2026-999', 'technical', 'x@example.com'))
    expect(unknown.code).toBe('E_USAGE')
    expect(unknown.exitCode).toBe(2)
    expect(unknown.hint).toContain(request.id)
    expect(errorOf(() => readChangeRequest(join(dir, 'none'), 'CR-2026-001')).hint).toContain('strata cr new')
  })

  it('finds an id in any case', () => {
    const { request } = createChangeRequest(changes, draft())
    expect(readChangeRequest(changes, request.id.toLowerCase()).request.id).toBe(request.id)
  })
})

describe('malformed files', () => {
  function writeRequest(id: string, text: string): string {
    createChangeRequest(changes, draft(), { now: at('2026-01-01T00:00:00Z') })
    const path = join(changes, `${id}.yaml`)
    writeFileSync(path, text)
    return path
  }

  it('names the file and the line of invalid YAML (E_CONFIG)', () => {
    const path = writeRequest('CR-2026-002', 'id: CR-2026-002\nmigrations: [001_init,\napprovals: {}\n')
    const error = errorOf(() => readChangeRequest(changes, 'CR-2026-002'))
    expect(error.code).toBe('E_CONFIG')
    expect(error.details.file).toBe(path)
    expect(error.details.line).toBeGreaterThan(0)
    expect(error.message).toContain(path)
  })

  it.each([
    ['a missing id', 'title: x\nmigrations: [001_init]\n', '`id` is missing'],
    ['missing migrations', 'id: CR-2026-002\ntitle: x\n', '`migrations` is missing'],
    ['an empty migrations list', 'id: CR-2026-002\nmigrations: []\n', 'lists no revisions'],
    ['a map as title', 'id: CR-2026-002\ntitle: { a: 1 }\nmigrations: [001_init]\n', '`title` must be text'],
    ['an unquoted numeric revision', 'id: CR-2026-002\nmigrations: [001]\n', 'quote ids that look like numbers'],
    ['an id that is not the file name', 'id: CR-2026-003\nmigrations: [001_init]\n', 'named CR-2026-002.yaml'],
    ['an unknown role', 'id: CR-2026-002\nmigrations: [001_init]\napprovals:\n  legal: { by: a, at: b, checksums: {} }\n', 'unknown role'],
    ['an approval without checksums', 'id: CR-2026-002\nmigrations: [001_init]\napprovals:\n  technical: { by: a, at: b }\n', 'checksums` is missing'],
    ['a list as approvals', 'id: CR-2026-002\nmigrations: [001_init]\napprovals: [technical]\n', '`approvals` must be a map'],
  ])('refuses %s with E_CONFIG naming the file', (_what, text, problem) => {
    const path = writeRequest('CR-2026-002', text)
    const error = errorOf(() => readChangeRequest(changes, 'CR-2026-002'))
    expect(error.code).toBe('E_CONFIG')
    expect(error.message).toContain(path)
    expect(error.message).toContain(problem)
  })

  it('is never skipped by list or approvalFor', () => {
    const path = writeRequest('CR-2026-002', 'id: CR-2026-002\nmigrations: "oops"\n')
    expect(errorOf(() => listChangeRequests(changes)).details.file).toBe(path)
    expect(errorOf(() => approvalFor(changes, ['001_init'], CHECKSUMS, false)).code).toBe('E_CONFIG')
  })

  it('ignores files that are not change requests', () => {
    createChangeRequest(changes, draft())
    writeFileSync(join(changes, 'README.md'), '# change requests\n')
    writeFileSync(join(changes, '.CR-2026-001.yaml.123.tmp'), 'garbage: [')
    expect(listChangeRequests(changes)).toHaveLength(1)
  })
})

describe('approvalFor (require_change_request)', () => {
  it('names the uncovered revisions and how to cover them', () => {
    expect(approvalFor(changes, ['002_event'], CHECKSUMS, false)).toEqual({
      approved: false,
      reason: expect.stringMatching(/^no change request covers 002_event; run `strata cr new TITLE --revisions 002_event`/),
    })
    createChangeRequest(changes, draft(['001_init']))
    const verdict = approvalFor(changes, ['001_init', '002_event'], CHECKSUMS, false)
    expect(verdict.approved).toBe(false)
    expect(!verdict.approved && verdict.reason).toMatch(/^no change request covers 002_event;/)
  })

  it('names the roles a covering request lacks, and why a void one is void', () => {
    const { request } = createChangeRequest(changes, draft())
    approveAs(request.id, 'technical', 'tech@example.com')
    approveAs(request.id, 'business', 'biz@example.com')
    const verdict = approvalFor(changes, ['002_event'], CHECKSUMS, false)
    expect(verdict).toEqual({ approved: false, reason: expect.stringContaining(`${request.id} covers 002_event but lacks a valid security approval`) })
    approveAs(request.id, 'security', 'sec@example.com')
    const edited = new Map(CHECKSUMS).set('002_event', 'f'.repeat(64))
    const stale = approvalFor(changes, ['002_event'], edited, false)
    expect(!stale.approved && stale.reason).toContain('security (void: 002_event changed since it was approved)')
  })

  it('accepts an approved request covering every revision', () => {
    const { request } = createChangeRequest(changes, draft(['001_init', '002_event', '003_index']))
    approveAll(request.id)
    expect(approvalFor(changes, ['002_event', '003_index'], CHECKSUMS, false)).toEqual({ approved: true, id: request.id })
  })

  it('prefers an approved request over a newer unapproved one', () => {
    const { request } = createChangeRequest(changes, draft())
    approveAll(request.id)
    createChangeRequest(changes, draft(['002_event']))
    expect(approvalFor(changes, ['002_event'], CHECKSUMS, false)).toEqual({ approved: true, id: request.id })
  })

  it('wants one request covering them all', () => {
    const first = createChangeRequest(changes, draft(['001_init'])).request.id
    approveAll(first)
    const second = createChangeRequest(changes, draft(['002_event'])).request.id
    approveAll(second)
    const verdict = approvalFor(changes, ['001_init', '002_event'], CHECKSUMS, false)
    expect(!verdict.approved && verdict.reason).toContain(`no single change request covers all of 001_init, 002_event (001_init in ${first}, 002_event in ${second})`)
  })

  it('judges approvals by three different people unless allowed', () => {
    const { request } = createChangeRequest(changes, draft())
    for (const role of ['technical', 'business', 'security']) approveAs(request.id, role, 'solo@example.com', { allowSameApprover: true })
    expect(approvalFor(changes, ['001_init'], CHECKSUMS, true)).toEqual({ approved: true, id: request.id })
    const verdict = approvalFor(changes, ['001_init'], CHECKSUMS, false)
    expect(!verdict.approved && verdict.reason).toContain('solo@example.com already approved the technical role')
  })

  it('has nothing to look up without revisions, and nothing in a missing folder', () => {
    expect(approvalFor(join(dir, 'nowhere'), [], CHECKSUMS, false).approved).toBe(false)
    expect(approvalFor(join(dir, 'nowhere'), ['001_init'], CHECKSUMS, false).approved).toBe(false)
  })
})

describe('evaluateApprovals', () => {
  it('counts the earlier approval when one person holds two roles', () => {
    const request = {
      id: 'CR-2026-001', title: 't', requester: '', createdAt: '', migrations: ['001_init'],
      prose: { summary: '', business_justification: '', technical_details: '', risk_assessment: '', testing_plan: '', rollback_plan: '', schedule: '', priority: '' },
      approvals: {
        technical: { by: 'a', at: '2026-01-02T00:00:00.000Z', checksums: { '001_init': 'a'.repeat(64) } },
        security: { by: 'A', at: '2026-01-01T00:00:00.000Z', checksums: { '001_init': 'a'.repeat(64) } },
      },
    }
    const state = evaluateApprovals(request, CHECKSUMS, false)
    expect(state.approvals.map((a) => [a.role, a.valid])).toEqual([['technical', false], ['security', true]])
    expect(state.missing).toEqual(['technical', 'business'])
    expect(describeMissing(state)).toBe('technical (void: a already approved the security role; each role needs a different person), business')
  })
})

describe('changeRequestSettings', () => {
  it('resolves change_requests.dir from the config file folder', () => {
    const file = join(dir, 'strata.yaml')
    writeFileSync(file, 'environments:\n  development: { url: "sqlite:app.db" }\nchange_requests: { dir: approvals/cr, allow_same_approver: true }\n')
    const settings = changeRequestSettings(loadConfig({ config: file, cwd: tmpdir(), environ: {} }))
    expect(settings).toEqual({ dir: join(dir, 'approvals', 'cr'), allowSameApprover: true })
    writeFileSync(file, 'environments:\n  development: { url: "sqlite:app.db" }\n')
    expect(changeRequestSettings(loadConfig({ config: file, cwd: tmpdir(), environ: {} }))).toEqual({ dir: join(dir, 'changes'), allowSameApprover: false })
  })

  it('needs a config file (SPEC S12)', () => {
    const error = errorOf(() => changeRequestSettings(loadConfig({ url: 'sqlite:app.db', cwd: dir, environ: {} })))
    expect(error).toBeInstanceOf(StrataError)
    expect(error.code).toBe('E_CONFIG')
    expect(error.message).toContain('`strata cr` needs a config file (strata.yaml)')
    expect(error.hint).toContain('strata init')
  })
})
