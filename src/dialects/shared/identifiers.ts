/**
 * Identifier quoting shared by the compilers (SPEC S16: every identifier is quoted). A quote
 * character inside the name is doubled, which is how SQLite, PostgreSQL (`"`) and MySQL (`` ` ``)
 * escape it.
 */

/** Quotes `name` with `quote` on both sides, doubling any `quote` inside it. */
export function quoteWith(name: string, quote: '"' | '`'): string {
  return quote + name.split(quote).join(quote + quote) + quote
}

/** SQL-standard double-quoted identifier (SQLite, PostgreSQL). */
export function quoteDoubled(name: string): string {
  return quoteWith(name, '"')
}

/** A comma-separated list of quoted identifiers: `"a", "b"`. */
export function quoteList(names: readonly string[], quote: (name: string) => string = quoteDoubled): string {
  return names.map(quote).join(', ')
}
