import type { DialectName } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import type { SqlStatementText } from '../loader/migration.js'
import { splitStatements } from './split.js'
import {
  directiveLabel,
  scanDirectives,
  type SqlDirective,
} from './sql-directives.js'
import {
  applyHeader,
  emptyHeaders,
  parseLintIgnore,
  type HeaderDraft,
  type SqlMigrationHeaders,
} from './sql-headers.js'

export type { SqlMigrationHeaders } from './sql-headers.js'

/** An SQL migration file (sectioned, or an `.up.sql`/`.down.sql` pair) read into headers and statements. */
export interface ParsedSqlMigration {
  readonly headers: SqlMigrationHeaders
  /** The up statements; empty when the up holds only comments (a valid, no-op migration). */
  readonly up: readonly SqlStatementText[]
  /** Undefined when there is no down section (or no `.down.sql`); empty when it holds no statement. */
  readonly down?: readonly SqlStatementText[]
  /** Whether there is a down section, known without splitting it. */
  readonly hasDown: boolean
}

/**
 * Headers are parsed at once; sections are split into statements on first access (memoized), so
 * commands that only need ids and checksums (`status`) skip the splitting. Splitting errors are
 * thrown then, still as E_MIGRATION_FILE.
 */
function lazyParsed(
  headers: SqlMigrationHeaders,
  up: () => SqlStatementText[],
  down: (() => SqlStatementText[]) | undefined,
): ParsedSqlMigration {
  let upValue: SqlStatementText[] | undefined
  let downValue: SqlStatementText[] | undefined
  const parsed = {
    headers,
    get up(): readonly SqlStatementText[] {
      return (upValue ??= up())
    },
  }
  // Not enumerable: the parsed value reads as plain { headers, up, down } data.
  Object.defineProperty(parsed, 'hasDown', { value: down !== undefined, enumerable: false })
  if (down === undefined) return parsed as ParsedSqlMigration
  return Object.defineProperty(parsed, 'down', {
    enumerable: true,
    get: () => (downValue ??= down()),
  }) as ParsedSqlMigration
}

/**
 * Parses a sectioned SQL migration (SPEC S2): header comments, then `-- strata:up` and
 * optionally `-- strata:down` (dbmate's `-- migrate:up|down` too, with its `transaction:false`
 * option). Statement lines are lines of the whole file. `-- strata:lint-ignore` lines in the
 * header apply to the whole file; inside a section they stay in the SQL, above the statement
 * they silence. Throws `E_MIGRATION_FILE` with `file` and `line` for a malformed file.
 */
export function parseSqlMigration(
  text: string,
  file: string,
  dialect: DialectName,
): ParsedSqlMigration {
  const { directives, firstSql } = scanDirectives(text, dialect, file)
  let up: SqlDirective | undefined
  let down: SqlDirective | undefined
  for (const directive of directives) {
    if (directive.name !== 'up' && directive.name !== 'down') continue
    const first = directive.name === 'up' ? up : down
    if (first !== undefined) {
      throw fileError(
        file,
        directive.line,
        `\`${directiveLabel(directive)}\` appears a second time (first on line ${first.line})`,
        'keep one up section and at most one down section; each marker may appear once',
      )
    }
    if (directive.name === 'up') up = directive
    else down = directive
  }
  if (up === undefined) {
    const mysqlNote = dialect === 'mysql' ? ' (MySQL needs a space after `--`)' : ''
    throw fileError(
      file,
      1,
      'no `-- strata:up` section; a sectioned SQL migration needs one',
      `put \`-- strata:up\` on its own line above the migration's SQL, and \`-- strata:down\` above the SQL that reverts it${mysqlNote}`,
    )
  }
  if (down !== undefined && down.start < up.start) {
    throw fileError(
      file,
      down.line,
      `\`${directiveLabel(down)}\` comes before \`${directiveLabel(up)}\` (line ${up.line})`,
      'put the up section first, then the down section',
    )
  }
  if (firstSql !== undefined && firstSql.start < up.start) {
    throw fileError(
      file,
      firstSql.line,
      `SQL before the first section marker \`${directiveLabel(up)}\` (line ${up.line})`,
      'move the statement below the marker, or comment it out; only header comments may come before it',
    )
  }
  const headers = emptyHeaders()
  const seen = new Set<string>()
  for (const directive of directives) {
    if (directive === up || directive === down) {
      applyMarkerOptions(headers, directive, file)
    } else if (directive.start < up.start) {
      applyHeader(headers, directive, file, seen)
    } else if (directive.name === 'lint-ignore') {
      parseLintIgnore(directive, file)
    } else {
      throw fileError(
        file,
        directive.line,
        `header \`${directiveLabel(directive)}\` comes after the first section marker (line ${up.line})`,
        `move it above \`${directiveLabel(up)}\`; headers describe the whole file`,
      )
    }
  }
  const upEnd = down === undefined ? text.length : down.start
  const upMarker = up
  const downMarker = down
  return lazyParsed(
    headers,
    () => section(text, upMarker, upEnd, file, dialect),
    downMarker === undefined ? undefined : () => section(text, downMarker, text.length, file, dialect),
  )
}

/**
 * Parses a golang-migrate style pair: the whole `.up.sql` is the up (header comments may open
 * it, above its first statement), the `.down.sql`, when there is one, the down. Section markers
 * are refused in both, headers in the `.down.sql`.
 */
export function parseSqlPair(
  upText: string,
  upFile: string,
  downText: string | undefined,
  downFile: string | undefined,
  dialect: DialectName,
): ParsedSqlMigration {
  const headers = emptyHeaders()
  const seen = new Set<string>()
  const scan = scanDirectives(upText, dialect, upFile)
  const removed: SqlDirective[] = []
  for (const directive of scan.directives) {
    refuseMarker(directive, upFile)
    if (!directive.afterSql) {
      applyHeader(headers, directive, upFile, seen)
      removed.push(directive)
    } else if (directive.name === 'lint-ignore') {
      parseLintIgnore(directive, upFile)
    } else {
      throw fileError(
        upFile,
        directive.line,
        `header \`${directiveLabel(directive)}\` comes after SQL (line ${scan.firstSql?.line ?? 1})`,
        'move it to the top of the file, above the first statement',
      )
    }
  }
  const up = (): SqlStatementText[] => statements(withoutRanges(upText, removed), upFile, dialect, 1)
  if (downText === undefined) return lazyParsed(headers, up, undefined)
  const file = downFile ?? upFile
  for (const directive of scanDirectives(downText, dialect, file).directives) {
    refuseMarker(directive, file)
    if (directive.name === 'lint-ignore') {
      parseLintIgnore(directive, file)
    } else {
      throw fileError(
        file,
        directive.line,
        `header \`${directiveLabel(directive)}\` in the .down.sql file`,
        `move it to the top of ${upFile}; the headers of a pair open its .up.sql file`,
      )
    }
  }
  return lazyParsed(headers, up, () => statements(downText, file, dialect, 1))
}

function refuseMarker(directive: SqlDirective, file: string): void {
  if (directive.name !== 'up' && directive.name !== 'down') return
  throw fileError(
    file,
    directive.line,
    `section marker \`${directiveLabel(directive)}\` in a .up.sql/.down.sql pair`,
    'remove it: in a pair the .up.sql file is the up and the .down.sql file the down',
  )
}

/** dbmate's marker options: `-- migrate:up transaction:false`. */
function applyMarkerOptions(headers: HeaderDraft, marker: SqlDirective, file: string): void {
  for (const option of marker.value.split(/\s+/)) {
    if (option === '' || option === 'transaction:true') continue
    if (option === 'transaction:false') {
      headers.transactional = false
      continue
    }
    throw fileError(
      file,
      marker.line,
      `\`${directiveLabel(marker)}\` has an unknown option \`${option}\``,
      'the only option is `transaction:false` (the same as `-- strata:no-transaction`)',
    )
  }
}

/** The statements between the end of a marker's line and `end`. */
function section(
  text: string,
  marker: SqlDirective,
  end: number,
  file: string,
  dialect: DialectName,
): SqlStatementText[] {
  let start = marker.end
  if (text.startsWith('\r\n', start)) start += 2
  else if (start < text.length) start += 1 // the marker's line break
  return statements(text.slice(start, Math.max(start, end)), file, dialect, marker.line + 1)
}

function statements(
  text: string,
  file: string,
  dialect: DialectName,
  firstLine: number,
): SqlStatementText[] {
  return splitStatements(text, dialect, { file, firstLine }).map(({ sql, line }) => ({
    sql,
    line,
    file,
  }))
}

/** The text with the given comments cut out; their line breaks stay, so line numbers hold. */
function withoutRanges(text: string, ranges: readonly SqlDirective[]): string {
  if (ranges.length === 0) return text
  const parts: string[] = []
  let from = 0
  for (const range of ranges) {
    parts.push(text.slice(from, range.start))
    from = range.end
  }
  parts.push(text.slice(from))
  return parts.join('')
}

function fileError(file: string, line: number, problem: string, hint: string): StrataError {
  return new StrataError('E_MIGRATION_FILE', `${file}:${line}: ${problem}`, { file, line, hint })
}
