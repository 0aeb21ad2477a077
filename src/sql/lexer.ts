import type { DialectName } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'

/**
 * What the lexer found at the current position.
 * - `word`: an unquoted identifier or keyword (`$` allowed after the first character).
 * - `number`: a run of identifier characters starting with a digit (`1`, `1.5e3`, `0x1f`).
 * - `quoted`: a string, a quoted identifier, a dollar-quoted body (postgres), or a MySQL
 *   executable comment `/*! … *\/`, which the server runs and is therefore SQL, not a comment.
 * - `comment`: `-- …`, `/* … *\/`, and `# …` (mysql).
 * - `delimiter`: the statement delimiter (`;`, or the MySQL `DELIMITER` in force).
 * - `symbol`: any other single character.
 */
export type SqlTokenKind = 'word' | 'number' | 'quoted' | 'comment' | 'delimiter' | 'symbol'

const LF = 10
const CR = 13
const SPACE = 32
const QUOTE = 39 // '
const DQUOTE = 34 // "
const BACKTICK = 96
const BACKSLASH = 92
const DOLLAR = 36
const DASH = 45
const SLASH = 47
const STAR = 42
const HASH = 35
const BANG = 33
const LBRACKET = 91
const RBRACKET = 93
const BOM = 0xfeff

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y

function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128
}

function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === DOLLAR
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * A pull lexer over SQL text that knows just enough of each dialect to tell strings, quoted
 * identifiers and comments from code. It visits every character a bounded number of times, so
 * its cost is linear in the text. The current token is held in the public fields (no
 * allocation per token).
 */
export class SqlLexer {
  /** The statement delimiter in force; MySQL's `DELIMITER` directive changes it. */
  delimiter = ';'
  kind: SqlTokenKind = 'symbol'
  /** Offset of the current token's first character. */
  start = 0
  /** Offset just past the current token. */
  end = 0
  /** 1-based line where the current token starts. */
  line = 0
  /** True when only whitespace precedes the current token on its line. */
  firstOnLine = false

  readonly #text: string
  readonly #dialect: DialectName
  readonly #file: string | undefined
  #pos = 0
  #line: number
  #lastEndLine: number

  constructor(
    text: string,
    dialect: DialectName,
    options: { readonly file?: string; readonly firstLine?: number } = {},
  ) {
    this.#text = text
    this.#dialect = dialect
    this.#file = options.file
    this.#line = options.firstLine ?? 1
    this.#lastEndLine = this.#line - 1
  }

  /** The current token's text. */
  get text(): string {
    return this.#text.slice(this.start, this.end)
  }

  /** Moves to the next token; false at the end of the text. */
  next(): boolean {
    const text = this.#text
    let pos = this.#pos
    while (pos < text.length) {
      const c = text.charCodeAt(pos)
      if (c > SPACE && c !== BOM) break
      if (c === LF || (c === CR && text.charCodeAt(pos + 1) !== LF)) this.#line++
      pos++
    }
    this.#pos = pos
    if (pos >= text.length) return false
    this.start = pos
    this.line = this.#line
    this.firstOnLine = this.#line > this.#lastEndLine
    this.#advanceTo(this.#scanToken(pos))
    this.#lastEndLine = this.#line
    return true
  }

  /** Skips the rest of the current line (for line-oriented directives); returns its text. */
  restOfLine(): string {
    const text = this.#text
    let end = this.#pos
    while (end < text.length && text.charCodeAt(end) !== LF && text.charCodeAt(end) !== CR) end++
    const rest = text.slice(this.#pos, end)
    this.#pos = end
    this.end = end
    return rest
  }

  #advanceTo(end: number): void {
    const text = this.#text
    for (let i = this.#pos; i < end; i++) {
      const c = text.charCodeAt(i)
      if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) this.#line++
    }
    this.#pos = end
    this.end = end
  }

  #scanToken(pos: number): number {
    const text = this.#text
    const dialect = this.#dialect
    const c = text.charCodeAt(pos)
    const next = text.charCodeAt(pos + 1)
    if (this.#atDelimiter(pos)) return this.#token('delimiter', pos + this.delimiter.length)
    if (c === QUOTE) return this.#token('quoted', this.#skipQuoted(pos, QUOTE, dialect === 'mysql'))
    if (c === DQUOTE)
      return this.#token('quoted', this.#skipQuoted(pos, DQUOTE, dialect === 'mysql'))
    if (c === BACKTICK && dialect !== 'postgres') {
      return this.#token('quoted', this.#skipQuoted(pos, BACKTICK, false))
    }
    if (c === LBRACKET && dialect === 'sqlite') {
      const close = text.indexOf(']', pos + 1)
      if (close < 0) this.#unterminated('bracketed identifier [')
      return this.#token('quoted', close + 1)
    }
    if (c === DASH && next === DASH && this.#dashDashIsComment(pos)) {
      return this.#token('comment', this.#skipLineComment(pos))
    }
    if (c === HASH && dialect === 'mysql') return this.#token('comment', this.#skipLineComment(pos))
    if (c === SLASH && next === STAR) return this.#blockComment(pos)
    if (c === DOLLAR && dialect === 'postgres') {
      DOLLAR_TAG.lastIndex = pos
      const tag = DOLLAR_TAG.exec(text)
      if (tag !== null) {
        const close = text.indexOf(tag[0], pos + tag[0].length)
        if (close < 0) this.#unterminated(`dollar-quoted body ${tag[0]}`)
        return this.#token('quoted', close + tag[0].length)
      }
    }
    if (isWordStart(c) || (c === DOLLAR && dialect !== 'postgres')) {
      const end = this.#skipWord(pos)
      // E'…' (postgres): a string with backslash escapes.
      if (dialect === 'postgres' && end === pos + 1 && (c === 69 || c === 101) && next === QUOTE) {
        return this.#token('quoted', this.#skipQuoted(end, QUOTE, true))
      }
      return this.#token('word', end)
    }
    if (isDigit(c)) return this.#token('number', this.#skipWord(pos))
    return this.#token('symbol', pos + 1)
  }

  #token(kind: SqlTokenKind, end: number): number {
    this.kind = kind
    return end
  }

  #atDelimiter(pos: number): boolean {
    const delimiter = this.delimiter
    if (delimiter === ';') return this.#text.charCodeAt(pos) === 59
    return this.#text.startsWith(delimiter, pos)
  }

  /** MySQL needs whitespace (or the end) after `--` for a comment: `1--1` is `1 - -1`. */
  #dashDashIsComment(pos: number): boolean {
    if (this.#dialect !== 'mysql') return true
    const after = this.#text.charCodeAt(pos + 2)
    return Number.isNaN(after) || after <= SPACE
  }

  #skipWord(pos: number): number {
    const text = this.#text
    const custom = this.delimiter !== ';'
    let i = pos + 1
    while (i < text.length && isWordPart(text.charCodeAt(i))) {
      if (custom && this.#atDelimiter(i)) break
      i++
    }
    return i
  }

  #skipLineComment(pos: number): number {
    const text = this.#text
    let i = pos
    while (i < text.length && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++
    return i
  }

  #blockComment(pos: number): number {
    const text = this.#text
    const dialect = this.#dialect
    const third = text.charCodeAt(pos + 2)
    // MySQL/MariaDB executable comments (`/*! … */`, `/*M! … */`) are run by the server.
    const executable =
      dialect === 'mysql' && (third === BANG || (third === 77 && text.charCodeAt(pos + 3) === BANG))
    let depth = 1
    let i = pos + 2
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === STAR && text.charCodeAt(i + 1) === SLASH) {
        i += 2
        if (--depth === 0) return this.#token(executable ? 'quoted' : 'comment', i)
      } else if (c === SLASH && text.charCodeAt(i + 1) === STAR && dialect === 'postgres') {
        i += 2
        depth++ // postgres nests block comments
      } else {
        i++
      }
    }
    // SQLite ends an unterminated block comment at the end of the input; the others refuse it.
    if (dialect !== 'sqlite') this.#unterminated('block comment /*')
    return this.#token('comment', text.length)
  }

  /** Skips a quoted token whose quote is doubled to escape it, and optionally backslash-escaped. */
  #skipQuoted(pos: number, quote: number, backslash: boolean): number {
    const text = this.#text
    let i = pos + 1
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === BACKSLASH && backslash) {
        i += 2
      } else if (c === quote) {
        if (text.charCodeAt(i + 1) !== quote) return i + 1
        i += 2
      } else {
        i++
      }
    }
    const isString = quote === QUOTE || (quote === DQUOTE && this.#dialect === 'mysql')
    return this.#unterminated(
      `${isString ? 'string' : 'quoted identifier'} ${String.fromCharCode(quote)}`,
    )
  }

  /** Refuses an unclosed string, identifier or comment; `what` ends with its opening characters. */
  #unterminated(what: string): never {
    const line = this.line
    const where = this.#file === undefined ? `line ${line}` : `${this.#file}:${line}`
    throw new StrataError('E_MIGRATION_FILE', `${where}: unterminated ${what}`, {
      file: this.#file,
      line,
      hint: `close the ${what} opened on line ${line}; everything after it was read as part of it`,
    })
  }
}
