import { StrataError } from '../errors/index.js'
import { parseDuration } from '../util/duration.js'
import { directiveLabel, type SqlDirective } from './sql-directives.js'

/** The header comments of an SQL migration (SPEC S2); absent fields take the loader's defaults. */
export interface SqlMigrationHeaders {
  /** `-- strata:revision X`; undefined = the file stem. */
  readonly revision?: string
  /** `-- strata:down-revision a, b`; null = `none` (a root); undefined = the previous file. */
  readonly downRevision?: readonly string[] | null
  /** `-- strata:depends-on a, label@head` */
  readonly dependsOn: readonly string[]
  /** `-- strata:branch-labels x, y` */
  readonly branchLabels: readonly string[]
  /** `-- strata:description Text` */
  readonly description?: string
  /** False with `-- strata:no-transaction` or dbmate's `transaction:false` marker option. */
  readonly transactional: boolean
  /** File-wide `-- strata:lint-ignore RULE, …` lines of the header. */
  readonly lintIgnore: readonly string[]
  /** `-- strata:lock-timeout 5s`, in milliseconds. */
  readonly lockTimeoutMs?: number
  /** `-- strata:statement-timeout 10m`, in milliseconds. */
  readonly statementTimeoutMs?: number
}

/** Header fields as they are collected, line by line. */
export interface HeaderDraft {
  revision?: string
  downRevision?: string[] | null
  dependsOn: string[]
  branchLabels: string[]
  description?: string
  transactional: boolean
  lintIgnore: string[]
  lockTimeoutMs?: number
  statementTimeoutMs?: number
}

const REVISION_ID = /^[A-Za-z0-9_.-]+$/
const REVISION_REF = /^[A-Za-z0-9_.@-]+$/ // depends-on also takes `label@head`
const NAME = /^[A-Za-z0-9_.-]+$/

/** A fresh draft with the defaults: transactional, nothing else set. */
export function emptyHeaders(): HeaderDraft {
  return { dependsOn: [], branchLabels: [], transactional: true, lintIgnore: [] }
}

/**
 * Applies one header directive (or a header `lint-ignore`) to the draft. Throws
 * `E_MIGRATION_FILE` for a missing or malformed value and for a single-valued header given twice.
 */
export function applyHeader(
  draft: HeaderDraft,
  directive: SqlDirective,
  file: string,
  seen: Set<string>,
): void {
  const { name, value } = directive
  const fail = (problem: string, hint: string): StrataError => directiveError(directive, file, problem, hint)
  const single =
    name === 'revision' ||
    name === 'down-revision' ||
    name === 'description' ||
    name === 'no-transaction' ||
    name === 'lock-timeout' ||
    name === 'statement-timeout'
  if (single && seen.has(name))
    throw fail(
      'is given twice',
      'keep one line; only lists (depends-on, branch-labels, lint-ignore) may repeat',
    )
  seen.add(name)
  if (name === 'no-transaction') {
    if (value !== '')
      throw fail(
        `takes no value (got \`${value}\`)`,
        `write \`${directiveLabel(directive)}\` alone on its line`,
      )
    draft.transactional = false
    return
  }
  if (value === '')
    throw fail(
      'needs a value',
      `write it as \`${directiveLabel(directive)} ${EXAMPLE[name] ?? 'value'}\``,
    )
  switch (name) {
    case 'revision':
      if (/[\s,]/.test(value))
        throw fail(
          `takes one revision id (got \`${value}\`)`,
          'a migration has one id; parents go in `-- strata:down-revision`',
        )
      draft.revision = checkedId(value, REVISION_ID, fail)
      return
    case 'down-revision':
      draft.downRevision = parseDownRevision(value, fail)
      return
    case 'description':
      draft.description = value
      return
    case 'depends-on':
      addAll(
        draft.dependsOn,
        list(value, fail).map((id) => checkedId(id, REVISION_REF, fail)),
      )
      return
    case 'branch-labels':
      addAll(
        draft.branchLabels,
        list(value, fail).map((id) => checkedId(id, NAME, fail)),
      )
      return
    case 'lint-ignore':
      addAll(draft.lintIgnore, parseLintIgnore(directive, file))
      return
    case 'lock-timeout':
    case 'statement-timeout': {
      const ms = parseDuration(value)
      if (ms === undefined) throw fail(`takes a duration (got \`${value}\`)`, `write e.g. \`${directiveLabel(directive)} 5s\` (ms, s, m, h)`)
      if (name === 'lock-timeout') draft.lockTimeoutMs = ms
      else draft.statementTimeoutMs = ms
      return
    }
    default:
      throw fail(
        'is not a header',
        'headers are revision, down-revision, depends-on, branch-labels, description, no-transaction, lock-timeout, statement-timeout',
      )
  }
}

/** The rule ids of a `-- strata:lint-ignore RULE, …` line (checked even where it stays in the SQL). */
export function parseLintIgnore(directive: SqlDirective, file: string): string[] {
  const fail = (problem: string, hint: string): StrataError => directiveError(directive, file, problem, hint)
  if (directive.value === '')
    throw fail(
      'needs a value',
      `write it as \`${directiveLabel(directive)} ${EXAMPLE['lint-ignore']}\``,
    )
  return list(directive.value, fail).map((rule) => checkedId(rule, NAME, fail))
}

const EXAMPLE: Readonly<Record<string, string>> = {
  revision: '003_add_x',
  'down-revision': '002_a (or `none` for a root, `a, b` for a merge)',
  description: 'Add x to y',
  'depends-on': '001_x, reporting@head',
  'branch-labels': 'reporting',
  'lint-ignore': 'drop-column, blocking-index',
}

type Fail = (problem: string, hint: string) => StrataError

function list(value: string, fail: Fail): string[] {
  const items = value.split(',').map((item) => item.trim())
  if (items.some((item) => item === ''))
    throw fail(`has an empty item in \`${value}\``, 'separate the items with single commas')
  return items
}

function checkedId(id: string, pattern: RegExp, fail: Fail): string {
  if (!pattern.test(id)) {
    const spaced = /\s/.test(id)
    throw fail(
      `has an invalid item \`${id}\``,
      spaced ? 'separate the items with commas' : 'use only letters, digits, `_`, `.` and `-`',
    )
  }
  if (id === '.' || id.includes('..'))
    throw fail(`has an invalid item \`${id}\``, 'an id may not contain `..` or name a path')
  return id
}

function parseDownRevision(value: string, fail: Fail): string[] | null {
  const items = list(value, fail)
  const isNone = (item: string): boolean => item.toLowerCase() === 'none'
  if (items.length === 1 && isNone(value)) return null
  if (items.some(isNone))
    throw fail('mixes `none` with revisions', 'write `none` alone for a root, or list the parents')
  return items.map((id) => checkedId(id, REVISION_ID, fail))
}

function addAll(target: string[], items: readonly string[]): void {
  for (const item of items) if (!target.includes(item)) target.push(item)
}

/** E_MIGRATION_FILE about one directive line, naming the file, the line and the directive. */
function directiveError(directive: SqlDirective, file: string, problem: string, hint: string): StrataError {
  return new StrataError('E_MIGRATION_FILE', `${file}:${directive.line}: \`${directiveLabel(directive)}\` ${problem}`, {
    file,
    line: directive.line,
    hint,
  })
}
