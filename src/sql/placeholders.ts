const QUOTE = 39 // '
const DQUOTE = 34 // "
const BACKTICK = 96 // `
const LBRACKET = 91 // [
const DASH = 45 // -
const SLASH = 47 // /
const STAR = 42 // *
const QMARK = 63 // ?

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * Where the `?` placeholders of `sql` are: each bare `?` outside string literals (`'…'`, with
 * `''` inside), quoted identifiers (`"…"`, `` `…` ``, `[…]`) and comments (`-- …` to the end of
 * the line, `/* … *\/`), in order; plus whether a numbered placeholder (`?1`) occurs, whose
 * value cannot be matched by position, and which comment the text ends inside, if any. One pass over the text; an unterminated quote or
 * comment runs to the end.
 */
function scanPlaceholders(sql: string): { readonly positions: number[]; readonly numbered: boolean; readonly openComment: '--' | '/*' | null } {
  const positions: number[] = []
  let numbered = false
  let openComment: '--' | '/*' | null = null
  const n = sql.length
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (c === QUOTE || c === DQUOTE || c === BACKTICK) {
      // A doubled closing quote is an escaped quote: it closes and reopens, so skipping to
      // each next quote in turn handles it without a special case.
      const end = sql.indexOf(sql[i]!, i + 1)
      i = end < 0 ? n : end + 1
    } else if (c === LBRACKET) {
      const end = sql.indexOf(']', i + 1)
      i = end < 0 ? n : end + 1
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      const end = sql.indexOf('\n', i + 2)
      if (end < 0) openComment = '--'
      i = end < 0 ? n : end + 1
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) openComment = '/*'
      i = end < 0 ? n : end + 2
    } else if (c === QMARK) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        numbered = true
        i++
        while (i < n && isDigit(sql.charCodeAt(i))) i++
      } else {
        positions.push(i)
        i++
      }
    } else {
      i++
    }
  }
  return { positions, numbered, openComment }
}

/**
 * Replaces each `?` placeholder of `sql` with `replace(index)` (0-based, in order of
 * appearance). A `?` inside a string literal (`'it''s?'`), a quoted identifier (`"a?"`,
 * `` `a?` ``, `[a?]`) or a comment (`-- why?`, `/* ? *\/`) is text, not a placeholder, and is
 * left as it is; so are numbered placeholders (`?1`). Linear in the length of `sql`; the
 * replacement texts are not scanned again.
 */
export function mapPlaceholders(sql: string, replace: (index: number) => string): string {
  return replaceAt(sql, scanPlaceholders(sql).positions, replace)
}

function replaceAt(sql: string, positions: readonly number[], replace: (index: number) => string): string {
  if (positions.length === 0) return sql
  const parts: string[] = []
  let last = 0
  for (const [index, at] of positions.entries()) {
    parts.push(sql.slice(last, at), replace(index))
    last = at + 1
  }
  parts.push(sql.slice(last))
  return parts.join('')
}

/** The number of `?` placeholders `mapPlaceholders` would replace, or null when `sql` uses numbered ones (`?1`). */
export function countPlaceholders(sql: string): number | null {
  const { positions, numbered } = scanPlaceholders(sql)
  return numbered ? null : positions.length
}

/**
 * The comment `sql` ends inside (`--` up to the end, or an unclosed `/*`, which SQLite accepts),
 * which would swallow a `;` appended to it; null when none.
 */
export function openCommentAtEnd(sql: string): '--' | '/*' | null {
  return scanPlaceholders(sql).openComment
}

/**
 * `sql` with each `?` placeholder replaced by its value from `params` written as a literal by
 * `renderLiteral`, so the statement can run as printed. Returns undefined, and never a wrong
 * statement, when the placeholders do not match `params` one for one (a different count, or
 * numbered placeholders). Errors thrown by `renderLiteral` (a value SQL cannot write) propagate.
 */
export function inlineParams<V>(sql: string, params: readonly V[], renderLiteral: (value: V) => string): string | undefined {
  const { positions, numbered } = scanPlaceholders(sql)
  if (numbered || positions.length !== params.length) return undefined
  return replaceAt(sql, positions, (index) => renderLiteral(params[index]!))
}
