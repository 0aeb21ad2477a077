import type { DialectName } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import { CompoundBlock } from './compound-block.js'
import { SqlLexer } from './lexer.js'

/** One statement cut from a script: its text and the line where it starts. */
export interface SplitStatement {
  /** The statement, trimmed, without its delimiter; comments inside and just above it kept. */
  readonly sql: string
  /** 1-based line of its first token that is not a comment. */
  readonly line: number
}

/** Where the text comes from, for line numbers and error messages. */
export interface SplitOptions {
  /** Named in errors (unterminated string, bad `DELIMITER`). */
  readonly file?: string
  /** Line number of the text's first line (a section of a larger file); default 1. */
  readonly firstLine?: number
}

/**
 * Splits an SQL script into statements on top-level delimiters, the way the engine's own client
 * would. A `;` separates statements unless it is inside a string, quoted identifier, comment,
 * dollar-quoted body (postgres), parentheses (a PostgreSQL `CREATE RULE … DO (a; b)`), or the
 * `BEGIN … END` body of a trigger or routine. MySQL `DELIMITER x` lines (at the start of a
 * statement, as the mysql client reads them) are removed and change the delimiter until the
 * next one. Comments between statements go with the statement below them, except a comment
 * on the line where the previous statement ended, which belongs to that one and is dropped.
 * Statements made only of comments and whitespace are dropped.
 *
 * Linear in the length of the text. Throws `E_MIGRATION_FILE` for an unterminated string,
 * identifier or comment, and for a `DELIMITER` line without a delimiter.
 */
export function splitStatements(
  text: string,
  dialect: DialectName,
  options: SplitOptions = {},
): SplitStatement[] {
  return scan(text, dialect, options, Number.POSITIVE_INFINITY)
}

/** True when the script holds at least one statement (not only comments and whitespace). */
export function hasStatements(
  text: string,
  dialect: DialectName,
  options: SplitOptions = {},
): boolean {
  return scan(text, dialect, options, 1).length > 0
}

function scan(
  text: string,
  dialect: DialectName,
  options: SplitOptions,
  limit: number,
): SplitStatement[] {
  const lexer = new SqlLexer(text, dialect, options)
  const block = new CompoundBlock(dialect)
  const statements: SplitStatement[] = []
  let textStart = -1 // where the statement's text starts: its first token or a comment above it
  let prefix = '' // text kept from before a DELIMITER line that sat inside the statement's comments
  let firstTokenLine = 0 // 0 = no token yet: the statement is only comments so far
  let parens = 0
  let afterDot = false
  let endedOnLine = (options.firstLine ?? 1) - 1

  const flush = (end: number): void => {
    if (firstTokenLine > 0) {
      statements.push({ sql: (prefix + text.slice(textStart, end)).trim(), line: firstTokenLine })
    }
    textStart = -1
    prefix = ''
    firstTokenLine = 0
    parens = 0
    afterDot = false
    block.reset()
  }

  while (statements.length < limit && lexer.next()) {
    const kind = lexer.kind
    if (kind === 'comment') {
      if (textStart < 0 && lexer.line > endedOnLine) textStart = lexer.start
      continue
    }
    if (kind === 'delimiter' && (lexer.delimiter !== ';' || (block.depth === 0 && parens === 0))) {
      flush(lexer.start)
      endedOnLine = lexer.line
      continue
    }
    if (firstTokenLine === 0 && kind === 'word' && dialect === 'mysql' && lexer.firstOnLine) {
      if (lexer.text.toUpperCase() === 'DELIMITER') {
        if (textStart >= 0) prefix += text.slice(textStart, lexer.start)
        textStart = -1
        lexer.delimiter = parseDelimiter(lexer.restOfLine(), lexer.line, options.file)
        endedOnLine = lexer.line
        continue
      }
    }
    if (firstTokenLine === 0) {
      firstTokenLine = lexer.line
      if (textStart < 0) textStart = lexer.start
    }
    const c = kind === 'symbol' ? text.charCodeAt(lexer.start) : 0
    if (c === 40) parens++
    else if (c === 41 && parens > 0) parens--
    // A qualified name (`NEW.begin`, `t.end`) is a column, never a block keyword.
    if (block.wantsWords)
      block.feed(kind === 'word' && !afterDot ? lexer.text.toUpperCase() : undefined)
    afterDot = c === 46
  }
  if (statements.length < limit) flush(text.length)
  return statements
}

/** The argument of a MySQL `DELIMITER` line: its first whitespace-separated word. */
function parseDelimiter(rest: string, line: number, file: string | undefined): string {
  const delimiter = rest.trim().split(/\s+/)[0] ?? ''
  if (delimiter === '' || delimiter.includes('\\')) {
    const where = file === undefined ? `line ${line}` : `${file}:${line}`
    throw new StrataError(
      'E_MIGRATION_FILE',
      `${where}: DELIMITER needs a delimiter without backslashes`,
      {
        file,
        line,
        hint: 'write for example `DELIMITER //`, end statements with `//`, and go back with `DELIMITER ;`',
      },
    )
  }
  return delimiter
}
