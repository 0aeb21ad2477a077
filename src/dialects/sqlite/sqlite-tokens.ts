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

/*
 * One sticky regular expression reads the whitespace and comments before a token and the token
 * itself (the regex engine is fast even before the JIT has warmed up, which a per-character loop
 * is not, and a CLI run parses hundreds of CREATE TABLE statements once). The token is the one
 * group that matched: 1 string `'…'`; 2 quoted identifier `"…"`, `` `…` `` or `[…]`; 3 blob
 * `x'…'`; 4 number (hex, or decimal with `e+5` exponents); 5 word; 6 parameter (`?`, `?1`,
 * `:a`, `@a`, `$a`); 7 symbol (two-character operators and `->>`, else one character); none at
 * the end of the text. A doubled quote stays inside a quoted token; an unterminated quote or
 * comment runs to the end.
 */
const WORD_PART = 'A-Za-z0-9_$\\u0080-\\uffff'
const TOKEN = new RegExp(
  '(?:[ \\t\\n\\r\\f\\v]+|--[^\\n]*\\n?|/\\*[\\s\\S]*?(?:\\*/|$))*(?:' +
    [
      "('[^']*(?:''[^']*)*'?)",
      '("[^"]*(?:""[^"]*)*"?|`[^`]*(?:``[^`]*)*`?|\\[[^\\]]*\\]?)',
      "([xX]'[^']*(?:''[^']*)*'?)",
      `(0[xX][${WORD_PART}.]*|(?:[0-9]|\\.[0-9])(?:[eE][+-]|[${WORD_PART}.])*)`,
      `([A-Za-z_\\u0080-\\uffff][${WORD_PART}]*)`,
      `(\\?[${WORD_PART}]*|[:@$][${WORD_PART}]+)`,
      '(->>?|<=|>=|<>|!=|==|\\|\\||<<|>>|[\\s\\S])',
    ].join('|') +
    ')?',
  'y',
)
const KINDS: readonly TokenKind[] = ['string', 'ident', 'blob', 'number', 'word', 'param', 'symbol']

/** Splits `sql` into significant tokens. An unterminated quote or comment runs to the end. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < sql.length) {
    const match = TOKEN.exec(sql)!
    const end = TOKEN.lastIndex
    let group = 1
    while (group <= KINDS.length && match[group] === undefined) group++
    if (group > KINDS.length) break // only whitespace and comments were left
    const text = match[group]!
    tokens.push({ kind: KINDS[group - 1]!, text, start: end - text.length, end })
  }
  return tokens
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
