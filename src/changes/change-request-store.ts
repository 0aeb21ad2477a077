import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { isMap, type Document } from 'yaml'
import { StrataError } from '../errors/index.js'
import { person } from './approval-state.js'
import {
  APPROVAL_ROLES,
  CHANGE_REQUEST_FILE,
  changeRequestId,
  compareChangeRequestIds,
  isApprovalRole,
  parseChangeRequest,
  parseChangeRequestId,
  renderNewChangeRequest,
  type Approval,
  type ApprovalRole,
  type ChangeRequest,
} from './change-request.js'

/** A change request and the file it was read from. */
export interface ChangeRequestEntry {
  readonly request: ChangeRequest
  /** Absolute path of `CR-YYYY-NNN.yaml`. */
  readonly path: string
}

/** The ids of the change request files in `dir`, sorted (no file is parsed). */
export function changeRequestIds(dir: string): string[] {
  if (!existsSync(dir)) return []
  const ids: string[] = []
  for (const name of readdirSync(dir)) {
    const match = CHANGE_REQUEST_FILE.exec(name)
    if (match) ids.push(match[1]!)
  }
  return ids.sort(compareChangeRequestIds)
}

/**
 * Every change request in `dir`, sorted by id; a folder that does not exist holds none.
 * Throws E_CONFIG naming the first malformed file: a broken one is never skipped silently.
 */
export function listChangeRequests(dir: string): ChangeRequestEntry[] {
  return changeRequestIds(dir).map((id) => load(join(dir, `${id}.yaml`), id).entry)
}

/** One change request; an unknown id is E_USAGE listing the known ones, a malformed file E_CONFIG. */
export function readChangeRequest(dir: string, id: string): ChangeRequestEntry {
  return locate(dir, id).entry
}

/** The next id of `now`'s UTC year: the highest of that year in `dir` plus one, from 001. */
export function nextChangeRequestId(dir: string, now: Date): string {
  const year = now.getUTCFullYear()
  let highest = 0
  for (const id of changeRequestIds(dir)) {
    const parsed = parseChangeRequestId(id)
    if (parsed && parsed.year === year) highest = Math.max(highest, parsed.number)
  }
  return changeRequestId(year, highest + 1)
}

/** What `cr new` records besides the id and the time. */
export interface ChangeRequestDraft {
  readonly title: string
  readonly requester: string
  /** The covered revisions, at least one. */
  readonly migrations: readonly string[]
}

/** The clock, injected so tests can cross a year boundary. */
export interface ClockOptions {
  readonly now?: () => Date
}

/**
 * Writes a new change request (`cr new`) under the next free id of the current UTC year.
 * The file appears whole or not at all, and never replaces another: two `cr new` at the same
 * moment get different numbers.
 */
export function createChangeRequest(dir: string, draft: ChangeRequestDraft, options: ClockOptions = {}): ChangeRequestEntry {
  const title = draft.title.trim()
  if (title === '') throw new StrataError('E_USAGE', 'a change request needs a title', { hint: 'e.g. strata cr new "Add event_name to graphics"' })
  if (draft.migrations.length === 0) {
    throw new StrataError('E_USAGE', 'a change request covers at least one migration', { hint: 'pass --revisions REV,…' })
  }
  const now = (options.now ?? (() => new Date()))()
  mkdirSync(dir, { recursive: true })
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = nextChangeRequestId(dir, now)
    const path = join(dir, `${id}.yaml`)
    const text = renderNewChangeRequest({ id, title, requester: draft.requester, createdAt: now.toISOString(), migrations: draft.migrations })
    if (writeExclusive(path, text)) return { path, request: parseChangeRequest(text, path, id).request }
  }
  throw new StrataError('E_INTERNAL', `could not claim a new change request id in ${dir}: other processes kept taking them`)
}

/** What `cr approve` records. */
export interface ApprovalInput extends ClockOptions {
  /** `technical`, `business` or `security`; anything else is E_USAGE. */
  readonly role: string
  /** Who approves (`--as`, git's user.email, or user@host). */
  readonly by: string
  /** Revision → checksum of every migration file now; each covered revision must have one. */
  readonly checksums: ReadonlyMap<string, string>
  /** `change_requests.allow_same_approver`: one person may hold several roles. */
  readonly allowSameApprover: boolean
}

/** The result of an approval: the request as written, the new approval and the one it replaced. */
export interface ApprovalResult {
  readonly entry: ChangeRequestEntry
  readonly approval: Approval
  readonly replaced: Approval | null
}

/**
 * Records `input.by`'s approval of `input.role` with the checksum of every covered migration,
 * replacing an earlier approval of that role (re-approving after an edit revalidates it). Refuses
 * with E_POLICY, leaving the file untouched, a person who holds another role of the request,
 * unless `allowSameApprover`. Comments and extra keys in the file are kept.
 */
export function approveChangeRequest(dir: string, id: string, input: ApprovalInput): ApprovalResult {
  const role = checkRole(input.role)
  const by = input.by.trim()
  if (by === '') throw new StrataError('E_USAGE', 'who approves? `--as` is empty', { hint: 'pass --as NAME (an e-mail address)' })
  const { entry, document } = locate(dir, id)
  const checksums = coveredChecksums(entry, input.checksums)
  if (!input.allowSameApprover) refuseSecondRole(entry.request, role, by)
  const approval: Approval = { by, at: (input.now ?? (() => new Date()))().toISOString(), checksums }
  setApproval(document, role, approval)
  const text = document.toString({ lineWidth: 0 })
  const request = parseChangeRequest(text, entry.path, entry.request.id).request
  writeAtomic(entry.path, text)
  return { entry: { path: entry.path, request }, approval, replaced: entry.request.approvals[role] ?? null }
}

function checkRole(role: string): ApprovalRole {
  if (isApprovalRole(role)) return role
  throw new StrataError('E_USAGE', `unknown approval role \`${role}\``, { hint: `use --role ${APPROVAL_ROLES.join('|')}` })
}

/** The checksum of each covered migration now; a covered revision without a file cannot be approved. */
function coveredChecksums(entry: ChangeRequestEntry, checksums: ReadonlyMap<string, string>): Record<string, string> {
  const covered: Record<string, string> = {}
  const absent: string[] = []
  for (const revision of entry.request.migrations) {
    const checksum = checksums.get(revision)
    if (checksum === undefined) absent.push(revision)
    else covered[revision] = checksum
  }
  if (absent.length > 0) {
    throw new StrataError('E_UNKNOWN_REVISION', `${entry.request.id} covers ${absent.join(', ')}, which has no migration file`, {
      file: entry.path,
      revisions: absent,
      hint: `restore the migration file, or remove the revision from \`migrations\` in ${entry.path}`,
    })
  }
  return covered
}

function refuseSecondRole(request: ChangeRequest, role: ApprovalRole, by: string): void {
  const other = APPROVAL_ROLES.find((r) => r !== role && request.approvals[r] && person(request.approvals[r].by) === person(by))
  if (other === undefined) return
  throw new StrataError('E_POLICY', `${by} already approved the ${other} role of ${request.id}; the ${role} approval needs a different person`, {
    rule: 'change_requests.allow_same_approver',
    hint: `ask someone else to approve ${role} (strata cr approve ${request.id} --role ${role} --as THEM), or set change_requests.allow_same_approver: true in the config`,
  })
}

/** Replaces the role's approval in the document, keeping `approvals` a block map people can read. */
function setApproval(document: Document, role: ApprovalRole, approval: Approval): void {
  const node = document.createNode({ by: approval.by, at: approval.at, checksums: { ...approval.checksums } })
  const approvals: unknown = document.get('approvals', true)
  if (isMap(approvals)) {
    approvals.flow = false
    approvals.set(role, node)
  } else {
    document.set('approvals', document.createNode({ [role]: node }))
  }
}

/** Finds a change request by id (any case), or E_USAGE naming the known ones. */
function locate(dir: string, id: string): { entry: ChangeRequestEntry; document: Document } {
  const wanted = id.trim().toUpperCase()
  const known = changeRequestIds(dir)
  if (!known.includes(wanted)) {
    const hint = known.length === 0
      ? `${dir} holds no change requests yet; \`strata cr new TITLE\` writes one`
      : `known: ${known.slice(-10).join(', ')}${known.length > 10 ? ', …' : ''} (\`strata cr list\` shows them all)`
    throw new StrataError('E_USAGE', `there is no change request \`${id}\` in ${dir}`, { hint })
  }
  return load(join(dir, `${wanted}.yaml`), wanted)
}

function load(path: string, id: string): { entry: ChangeRequestEntry; document: Document } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new StrataError('E_CONFIG', `cannot read change request ${path}: ${(error as Error).message}`, { file: path }, { cause: error })
  }
  const { request, document } = parseChangeRequest(text, path, id)
  return { entry: { request, path }, document }
}

/** A temporary file beside `path`, named so that listings never take it for a change request. */
function tempBeside(path: string): string {
  return join(path, '..', `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/** Replaces `path` with `text` in one rename, so a reader sees the old file or the new one. */
function writeAtomic(path: string, text: string): void {
  const temp = tempBeside(path)
  try {
    writeFileSync(temp, text, { flag: 'wx' })
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

/** Creates `path` whole with `text`; false when it already exists (another writer took the id). */
function writeExclusive(path: string, text: string): boolean {
  const temp = tempBeside(path)
  try {
    writeFileSync(temp, text, { flag: 'wx' })
    try {
      linkSync(temp, path)
    } catch (error) {
      // Some file systems have no hard links: an exclusive create still never replaces a file.
      if (!NO_LINKS.has(String((error as NodeJS.ErrnoException).code))) throw error
      writeFileSync(path, text, { flag: 'wx' })
    }
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    rmSync(temp, { force: true })
  }
}
