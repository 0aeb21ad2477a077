/**
 * A tokenizer for SQLite SQL text, enough to read schema definitions: strings, quoted
 * identifiers (`"…"`, `[…]`, `` `…` ``), blobs, numbers, words, parameters and operators, with
 * comments and whitespace dropped. Offsets point into the original text, so callers can cut
 * exact slices of it (a column definition, a CHECK expression).
 */

/** What a token is; `ident` is a quoted identifier, `word` a bare identifier or keyword. */
export type TokenKind = 'word' | 'ident' | 'string' | 'blob' | 'number' | 'param' | 'symbol'

/** One significant token and where it sits in the text. */
export interface Token {
  readonly kind: TokenKind
  readonly text: string
  /** Offset of the first character. */
  readonly start: number
  /** Offset just past the last character. */
  readonly end: number
}

const TWO_CHAR_SYMBOLS: ReadonlySet<string> = new Set(['<=', '>=', '<>', '!=', '==', '||', '<<', '>>', '->'])

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v'
const isDigit = (c: string): boolean => c >= '0' && c <= '9'
const isWordStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\u007f'
const isWordPart = (c: string): boolean => isWordStart(c) || isDigit(c) || c === '$'

/** Splits `sql` into significant tokens. An unterminated quote or comment runs to the end. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const push = (kind: TokenKind, start: number, end: number): void => {
    tokens.push({ kind, text: sql.slice(start, end), start, end })
  }
  while (i < sql.length) {
    const c = sql[i]!
    const next = sql[i + 1] ?? ''
    const start = i
    if (isSpace(c)) {
      i++
    } else if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i)
      i = eol < 0 ? sql.length : eol + 1
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2)
      i = close < 0 ? sql.length : close + 2
    } else if (c === "'") {
      push('string', start, (i = skipQuoted(sql, i, "'")))
    } else if (c === '"' || c === '`') {
      push('ident', start, (i = skipQuoted(sql, i, c)))
    } else if (c === '[') {
      const close = sql.indexOf(']', i + 1)
      push('ident', start, (i = close < 0 ? sql.length : close + 1))
    } else if ((c === 'x' || c === 'X') && next === "'") {
      push('blob', start, (i = skipQuoted(sql, i + 1, "'")))
    } else if (isDigit(c) || (c === '.' && isDigit(next))) {
      i++
      while (i < sql.length) {
        const d = sql[i]!
        if (isWordPart(d) || d === '.') i++
        else if ((d === '+' || d === '-') && /[eE]/.test(sql[i - 1]!) && !/^0[xX]/.test(sql.slice(start, i))) i++
        else break
      }
      push('number', start, i)
    } else if (isWordStart(c)) {
      while (i < sql.length && isWordPart(sql[i]!)) i++
      push('word', start, i)
    } else if (c === '?' || ((c === ':' || c === '@' || c === '$') && isWordPart(next))) {
      i++
      while (i < sql.length && isWordPart(sql[i]!)) i++
      push('param', start, i)
    } else {
      i += TWO_CHAR_SYMBOLS.has(c + next) ? 2 : 1
      if (c === '-' && next === '>' && sql[i] === '>') i++
      push('symbol', start, i)
    }
  }
  return tokens
}

/** Index just past a quoted run starting at `i` (the opening quote); a doubled quote is kept. */
function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) j += 2
      else return j + 1
    } else j++
  }
  return sql.length
}

/** True for a token that can name something: a bare word, a quoted identifier, or a string. */
export function isName(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === 'word' || token.kind === 'ident' || token.kind === 'string')
}

/** The name a token spells, without its quotes (`"a""b"` → `a"b`, `[x]` → `x`). */
export function nameOf(token: Token): string {
  const t = token.text
  if (token.kind === 'word') return t
  if (t.startsWith('[')) return t.slice(1, t.endsWith(']') ? -1 : undefined)
  const quote = t[0]!
  const inner = t.slice(1, t.length > 1 && t.endsWith(quote) ? -1 : undefined)
  return inner.split(quote + quote).join(quote)
}

/** True when the token is the bare keyword `word` (case-insensitive). */
export function isWord(token: Token | undefined, word: string): boolean {
  return token !== undefined && token.kind === 'word' && token.text.toUpperCase() === word
}

/** Index of the `)` matching the `(` at `open`, or the last index when unbalanced. */
export function matchParen(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'symbol') continue
    if (t.text === '(') depth++
    else if (t.text === ')' && --depth === 0) return i
  }
  return tokens.length - 1
}

/** Splits tokens [from, to) at commas outside parentheses; empty groups are dropped. */
export function splitTopLevel(tokens: readonly Token[], from: number, to: number): Array<readonly [number, number]> {
  const groups: Array<readonly [number, number]> = []
  let depth = 0
  let groupStart = from
  for (let i = from; i < to; i++) {
    const t = tokens[i]!
    if (t.kind !== 'symbol') continue
    if (t.text === '(') depth++
    else if (t.text === ')') depth--
    else if (t.text === ',' && depth === 0) {
      if (i > groupStart) groups.push([groupStart, i])
      groupStart = i + 1
    }
  }
  if (to > groupStart) groups.push([groupStart, to])
  return groups
}

/**
 * True when `sql` names any of `names` (lower-cased) as an identifier, quoted or not. Used to
 * find the views and triggers that depend on a table or column; a false positive only costs a
 * view being dropped and created again.
 */
export function mentionsAny(sql: string, names: ReadonlySet<string>): boolean {
  return tokenize(sql).some((t) => (t.kind === 'word' || t.kind === 'ident') && names.has(nameOf(t).toLowerCase()))
}

/**
 * Rewrites the identifiers of an expression: each bare or quoted identifier whose lower-cased
 * name is a key of `renames` (and that is not a function name) becomes the mapped text.
 */
export function replaceIdentifiers(sql: string, renames: ReadonlyMap<string, string>): string {
  if (renames.size === 0) return sql
  const tokens = tokenize(sql)
  let out = ''
  let last = 0
  tokens.forEach((t, i) => {
    if (t.kind !== 'word' && t.kind !== 'ident') return
    const replacement = renames.get(nameOf(t).toLowerCase())
    if (replacement === undefined || tokens[i + 1]?.text === '(') return
    out += sql.slice(last, t.start) + replacement
    last = t.end
  })
  return out + sql.slice(last)
}
