import { Document, LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml'
import { StrataError } from '../errors/index.js'

/** The three sign-offs of the SOP's "Change Request Process" (SPEC S9), in the order shown. */
export const APPROVAL_ROLES = ['technical', 'business', 'security'] as const
export type ApprovalRole = (typeof APPROVAL_ROLES)[number]

/** The prose fields an author fills in, as written in the file (snake_case, SPEC S9), in file order. */
export const PROSE_FIELDS = [
  'summary',
  'business_justification',
  'technical_details',
  'risk_assessment',
  'testing_plan',
  'rollback_plan',
  'schedule',
  'priority',
] as const
export type ProseField = (typeof PROSE_FIELDS)[number]

/** What each prose field is for: the inline comment `cr new` writes after its placeholder. */
const PROSE_HINTS: Readonly<Record<ProseField, string>> = {
  summary: 'what changes, in a sentence or two',
  business_justification: 'why the business needs the change',
  technical_details: 'tables touched, complexity, expected duration, downtime',
  risk_assessment: 'low | medium | high, and what could go wrong',
  testing_plan: 'how it was tested (strata test, rehearsal on staging, …)',
  rollback_plan: 'how to undo it (strata down …, restore of backup …) and how long that takes',
  schedule: 'when it runs, e.g. Sun 02:00-04:00 UTC (the maintenance window)',
  priority: 'low | medium | high',
}

/** One role's sign-off: who, when, and the checksum of every covered migration at that moment. */
export interface Approval {
  readonly by: string
  /** ISO-8601 UTC. */
  readonly at: string
  /** Revision → checksum of its file when approved; a later difference voids the approval. */
  readonly checksums: Readonly<Record<string, string>>
}

/** A change request as read from `changes/CR-YYYY-NNN.yaml` (SPEC S9). */
export interface ChangeRequest {
  /** `CR-YYYY-NNN`, the same as the file's name. */
  readonly id: string
  readonly title: string
  /** The prose fields; a field missing from the file reads as an empty string. */
  readonly prose: Readonly<Record<ProseField, string>>
  readonly requester: string
  /** ISO-8601 UTC, when `cr new` wrote the file. */
  readonly createdAt: string
  /** The revisions the change request covers, as written. */
  readonly migrations: readonly string[]
  readonly approvals: Readonly<Partial<Record<ApprovalRole, Approval>>>
}

/** The fields `cr new` is given; the prose starts empty (the summary as the title). */
export interface NewChangeRequest {
  readonly id: string
  readonly title: string
  readonly requester: string
  readonly createdAt: string
  readonly migrations: readonly string[]
}

/** `CR-2026-001`: a year and a number that runs per UTC year (three digits, more past 999). */
export const CHANGE_REQUEST_ID = /^CR-(\d{4})-(\d{3,})$/

/** The file a change request lives in: its id plus `.yaml`. */
export const CHANGE_REQUEST_FILE = /^(CR-\d{4}-\d{3,})\.yaml$/

/** Formats an id: `changeRequestId(2026, 7)` is `CR-2026-007`. */
export function changeRequestId(year: number, number: number): string {
  return `CR-${year}-${String(number).padStart(3, '0')}`
}

/** The year and number of an id, for numbering and sorting; null when it is not one. */
export function parseChangeRequestId(id: string): { year: number; number: number } | null {
  const match = CHANGE_REQUEST_ID.exec(id)
  return match ? { year: Number(match[1]), number: Number(match[2]) } : null
}

/** Orders ids by year, then number (so CR-2026-1000 follows CR-2026-999). */
export function compareChangeRequestIds(a: string, b: string): number {
  const x = parseChangeRequestId(a)
  const y = parseChangeRequestId(b)
  if (!x || !y) return a.localeCompare(b)
  return x.year - y.year || x.number - y.number
}

/** Whether `role` is one of the three approval roles. */
export function isApprovalRole(role: string): role is ApprovalRole {
  return (APPROVAL_ROLES as readonly string[]).includes(role)
}

/**
 * The text of a new change request file: a comment asking the author to fill the fields in
 * before asking for approvals, every key of SPEC S9 (prose as empty strings, each with a hint),
 * and `approvals: {}`.
 */
export function renderNewChangeRequest(request: NewChangeRequest): string {
  const prose = Object.fromEntries(PROSE_FIELDS.map((field) => [field, field === 'summary' ? request.title : '']))
  const doc = new Document({
    id: request.id,
    title: request.title,
    requester: request.requester,
    created_at: request.createdAt,
    ...prose,
    migrations: [...request.migrations],
    approvals: {},
  })
  doc.commentBefore = [
    ` Change request ${request.id} (the SOP's "Change Request Process").`,
    ' Fill in every field below before asking for approvals; an approval covers the',
    ' migrations listed here as they are now, and an edit to one of them voids it.',
    ` Approve with: strata cr approve ${request.id} --role technical|business|security`,
  ].join('\n')
  for (const field of PROSE_FIELDS) {
    const node = doc.get(field, true) as Node | undefined
    if (node) node.comment = ` ${PROSE_HINTS[field]}`
  }
  return doc.toString({ lineWidth: 0 })
}

/** A parsed file: the model, and the YAML document (comments and unknown keys kept for rewriting). */
export interface ParsedChangeRequest {
  readonly request: ChangeRequest
  readonly document: Document
}

/**
 * Parses and validates a change request file. Throws E_CONFIG naming the file (and the line)
 * for invalid YAML, a missing `id` or `migrations`, an id that differs from the file's name, an
 * unknown approval role, or a value of the wrong type.
 */
export function parseChangeRequest(text: string, file: string, expectedId?: string): ParsedChangeRequest {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { prettyErrors: true, lineCounter })
  const first = document.errors[0]
  if (first) {
    throw malformed(file, `invalid YAML: ${first.message.split('\n')[0]}`, first.linePos?.[0]?.line, 'fix the YAML syntax at the line shown')
  }
  const reader = new FieldReader(document, lineCounter, file)
  if (!isMap(document.contents)) reader.fail([], 'must be a map of fields (id, title, migrations, approvals, …)')
  const id = reader.string(['id'], { required: true })
  if (!CHANGE_REQUEST_ID.test(id)) reader.fail(['id'], `\`${id}\` is not a change request id (CR-YYYY-NNN)`)
  if (expectedId !== undefined && id !== expectedId) reader.fail(['id'], `says \`${id}\` but the file is named ${expectedId}.yaml`)
  const prose = Object.fromEntries(PROSE_FIELDS.map((field) => [field, reader.string([field])])) as Record<ProseField, string>
  return {
    document,
    request: {
      id,
      title: reader.string(['title']),
      prose,
      requester: reader.string(['requester']),
      createdAt: reader.string(['created_at']),
      migrations: readMigrations(reader),
      approvals: readApprovals(reader),
    },
  }
}

function readMigrations(reader: FieldReader): string[] {
  const migrations = reader.strings(['migrations'])
  if (migrations.length === 0) reader.fail(['migrations'], 'lists no revisions: a change request covers at least one migration')
  return migrations
}

function readApprovals(reader: FieldReader): Partial<Record<ApprovalRole, Approval>> {
  const approvals: Partial<Record<ApprovalRole, Approval>> = {}
  for (const role of reader.keys(['approvals'])) {
    if (!isApprovalRole(role)) reader.fail(['approvals', role], `is an unknown role (the roles are ${APPROVAL_ROLES.join(', ')})`)
    reader.keys(['approvals', role], true)
    const checksums: Record<string, string> = {}
    for (const revision of reader.keys(['approvals', role, 'checksums'], true)) {
      checksums[revision] = reader.string(['approvals', role, 'checksums', revision], { required: true })
    }
    approvals[role] = {
      by: reader.string(['approvals', role, 'by'], { required: true }),
      at: reader.string(['approvals', role, 'at'], { required: true }),
      checksums,
    }
  }
  return approvals
}

/** Reads typed values out of the document, failing with the file, the key path and its line. */
class FieldReader {
  readonly #document: Document
  readonly #lines: LineCounter
  readonly #file: string

  constructor(document: Document, lines: LineCounter, file: string) {
    this.#document = document
    this.#lines = lines
    this.#file = file
  }

  /** A text value; a number or boolean is taken as its text, null or absent as '' unless required. */
  string(path: readonly string[], options: { required?: boolean } = {}): string {
    const value: unknown = this.#document.getIn(path)
    if (value === undefined || value === null || value === '') {
      if (options.required) this.fail(path, 'is missing or empty')
      return ''
    }
    if (typeof value === 'string') return value
    if (typeof value === 'number' || typeof value === 'boolean') return String(value)
    return this.fail(path, 'must be text')
  }

  /** A list of revision ids (strings only: `001` unquoted would read as the number 1). */
  strings(path: readonly string[]): string[] {
    const node: unknown = this.#document.getIn(path, true)
    if (node === undefined || (isScalar(node) && node.value === null)) return this.fail(path, 'is missing')
    if (!isSeq(node)) return this.fail(path, 'must be a list of revision ids')
    return node.items.map((item, i) => {
      const value = isScalar(item) ? item.value : item
      if (typeof value === 'string' && value.trim() !== '') return value.trim()
      const quote = typeof value === 'number' ? ' (quote ids that look like numbers, e.g. "001")' : ''
      return this.fail([...path, String(i)], `must be a revision id${quote}`)
    })
  }

  /** The keys of a map; absent or null is no keys unless required. */
  keys(path: readonly string[], required = false): string[] {
    const node: unknown = this.#document.getIn(path, true)
    if (node === undefined || (isScalar(node) && node.value === null)) {
      if (required) this.fail(path, 'is missing')
      return []
    }
    if (!isMap(node)) return this.fail(path, 'must be a map')
    return node.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key))
  }

  fail(path: readonly string[], problem: string): never {
    const node: unknown = path.length === 0 ? this.#document.contents : this.#document.getIn(path, true)
    const offset = isRecord(node) && Array.isArray(node['range']) ? (node['range'][0] as number) : undefined
    const line = offset === undefined ? undefined : this.#lines.linePos(offset).line
    const where = path.length === 0 ? 'the file' : `\`${path.join('.')}\``
    throw malformed(this.#file, `${where} ${problem}`, line, 'fix the change request file by hand, or move it aside and run `strata cr new` again')
  }
}

function malformed(file: string, problem: string, line: number | undefined, hint: string): StrataError {
  return new StrataError('E_CONFIG', `change request ${file}${line ? `:${line}` : ''}: ${problem}`, {
    file,
    ...(line ? { line } : {}),
    hint,
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
