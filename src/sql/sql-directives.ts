import type { DialectName } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import { SqlLexer } from './lexer.js'

/** Section markers: `-- strata:up`, `-- strata:down` (and dbmate's `-- migrate:up|down`). */
export type SqlMarkerName = 'up' | 'down'

/** Header directives, allowed only before the first section (or before the SQL of a `.up.sql`). */
export type SqlHeaderName =
  | 'revision'
  | 'down-revision'
  | 'depends-on'
  | 'branch-labels'
  | 'description'
  | 'no-transaction'
  | 'lock-timeout'
  | 'statement-timeout'

/** Every `-- strata:NAME` directive strata knows. */
export type SqlDirectiveName = SqlMarkerName | SqlHeaderName | 'lint-ignore'

/** A `-- strata:NAME value` (or `-- migrate:NAME value`) comment on its own line. */
export interface SqlDirective {
  readonly prefix: 'strata' | 'migrate'
  readonly name: SqlDirectiveName
  /** The rest of the line after the name, trimmed. */
  readonly value: string
  readonly line: number
  /** Offsets of the comment in the text (the comment only, without its line break). */
  readonly start: number
  readonly end: number
  /** True when SQL (anything but comments) comes before it in the text. */
  readonly afterSql: boolean
}

/** The directives of a file, in order, and where its first SQL token is. */
export interface DirectiveScan {
  readonly directives: readonly SqlDirective[]
  /** Offset and line of the first token that is not a comment; undefined if there is none. */
  readonly firstSql?: { readonly start: number; readonly line: number }
}

const STRATA_NAMES: readonly SqlDirectiveName[] = [
  'up',
  'down',
  'revision',
  'down-revision',
  'depends-on',
  'branch-labels',
  'description',
  'no-transaction',
  'lock-timeout',
  'statement-timeout',
  'lint-ignore',
]
const MIGRATE_NAMES: readonly SqlDirectiveName[] = ['up', 'down']

// `-- strata:` is always a directive (a typo must not turn a section into a comment);
// `-- migrate:` only when a name follows the colon, as dbmate reads it.
const DIRECTIVE = /^--\s*(?:(strata):\s*([^\s]*)|(migrate):([A-Za-z][\w-]*)(?![^\s]))(.*)$/is

/** How a directive is written in messages: `-- strata:up`. */
export function directiveLabel(directive: Pick<SqlDirective, 'prefix' | 'name'>): string {
  return `-- ${directive.prefix}:${directive.name}`
}

/**
 * Finds the strata directives of an SQL migration file with the dialect's lexer, so a
 * `-- strata:down` inside a string or a dollar-quoted body is not one. Throws
 * `E_MIGRATION_FILE` for an unknown directive (naming the closest known one) and for a
 * directive that shares its line with SQL.
 */
export function scanDirectives(text: string, dialect: DialectName, file: string): DirectiveScan {
  const lexer = new SqlLexer(text, dialect, { file })
  const directives: SqlDirective[] = []
  let firstSql: { start: number; line: number } | undefined
  while (lexer.next()) {
    if (lexer.kind !== 'comment') {
      firstSql ??= { start: lexer.start, line: lexer.line }
      continue
    }
    const match = DIRECTIVE.exec(lexer.text)
    if (match === null) continue
    const prefix = match[1] === undefined ? 'migrate' : 'strata'
    const written = (match[2] ?? match[4] ?? '').toLowerCase()
    const value = (match[5] ?? '').trim()
    const known = prefix === 'strata' ? STRATA_NAMES : MIGRATE_NAMES
    const name = known.find((candidate) => candidate === written)
    if (name === undefined) throw unknownDirective(file, lexer.line, prefix, written, known)
    if (!lexer.firstOnLine) {
      throw new StrataError(
        'E_MIGRATION_FILE',
        `${file}:${lexer.line}: \`${directiveLabel({ prefix, name })}\` must be on a line of its own`,
        {
          file,
          line: lexer.line,
          hint: 'move the directive to its own line; after SQL on the same line it is read as a comment',
        },
      )
    }
    directives.push({
      prefix,
      name,
      value,
      line: lexer.line,
      start: lexer.start,
      end: lexer.end,
      afterSql: firstSql !== undefined,
    })
  }
  return firstSql === undefined ? { directives } : { directives, firstSql }
}

function unknownDirective(
  file: string,
  line: number,
  prefix: string,
  written: string,
  known: readonly string[],
): StrataError {
  const closest = closestName(written, known)
  const list = known.map((name) => `${prefix}:${name}`).join(', ')
  return new StrataError(
    'E_MIGRATION_FILE',
    `${file}:${line}: unknown directive \`-- ${prefix}:${written}\`; did you mean \`-- ${prefix}:${closest}\`?`,
    {
      file,
      line,
      hint: `the known directives are ${list}; for a plain comment, drop the \`${prefix}:\``,
    },
  )
}

/** The known name at the smallest edit distance from `written` (first one on a tie). */
export function closestName(written: string, known: readonly string[]): string {
  let best = known[0] ?? ''
  let bestDistance = Number.POSITIVE_INFINITY
  for (const name of known) {
    const distance = editDistance(written, name)
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
