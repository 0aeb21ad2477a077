import type { DialectName } from '../dialects/dialect.js'

/** Object kinds whose CREATE statement may hold a `BEGIN … END` body with inner semicolons. */
const BODY_KINDS: Readonly<Record<DialectName, ReadonlySet<string>>> = {
  sqlite: new Set(['TRIGGER']),
  // FUNCTION/PROCEDURE: SQL-standard bodies, `BEGIN ATOMIC … END` (PostgreSQL 14+).
  postgres: new Set(['TRIGGER', 'FUNCTION', 'PROCEDURE']),
  mysql: new Set(['TRIGGER', 'FUNCTION', 'PROCEDURE', 'EVENT']),
}

/** Words after CREATE that settle that the statement has no compound body. */
const OTHER_KINDS: ReadonlySet<string> = new Set([
  'TABLE',
  'INDEX',
  'VIEW',
  'UNIQUE',
  'SCHEMA',
  'DATABASE',
  'SEQUENCE',
  'TYPE',
  'DOMAIN',
  'EXTENSION',
  'ROLE',
  'USER',
  'MATERIALIZED',
  'VIRTUAL',
  'POLICY',
  'RULE',
  'SERVER',
  'TABLESPACE',
  'COLLATION',
  'PUBLICATION',
  'SUBSCRIPTION',
  'STATISTICS',
])

/** MySQL closes these with `END IF`, `END LOOP`, …; they do not open a counted block. */
const END_QUALIFIERS: ReadonlySet<string> = new Set(['IF', 'LOOP', 'WHILE', 'REPEAT'])

/** How many tokens after CREATE may precede the object kind (`OR REPLACE`, `DEFINER = …`, `TEMP`). */
const MAX_HEAD_TOKENS = 12

/**
 * Follows one statement's tokens to tell whether a `;` is inside a compound body
 * (`CREATE TRIGGER … BEGIN … END`, MySQL routines and events, PostgreSQL `BEGIN ATOMIC`), where
 * it separates the body's statements instead of ending the CREATE. `BEGIN` and `CASE` open a
 * block and `END` closes one; `END IF|LOOP|WHILE|REPEAT` (MySQL) close blocks that were not
 * counted, and `END CASE` closes a `CASE`.
 */
export class CompoundBlock {
  /** Open BEGIN/CASE blocks; a `;` ends the statement only at depth 0. */
  depth = 0
  #state: 'start' | 'head' | 'body' | 'plain' = 'start'
  #headTokens = 0
  #afterEnd = false
  readonly #kinds: ReadonlySet<string>

  constructor(dialect: DialectName) {
    this.#kinds = BODY_KINDS[dialect]
  }

  /** False once the statement is known to have no compound body: words no longer matter. */
  get wantsWords(): boolean {
    return this.#state !== 'plain'
  }

  /** Starts over for the next statement. */
  reset(): void {
    this.depth = 0
    this.#state = 'start'
    this.#headTokens = 0
    this.#afterEnd = false
  }

  /** Feeds the next significant token: an upper-cased word, or undefined for anything else. */
  feed(word: string | undefined): void {
    switch (this.#state) {
      case 'start':
        this.#state = word === 'CREATE' ? 'head' : 'plain'
        return
      case 'head':
        if (word !== undefined && this.#kinds.has(word)) this.#state = 'body'
        else if (
          (word !== undefined && OTHER_KINDS.has(word)) ||
          ++this.#headTokens > MAX_HEAD_TOKENS
        ) {
          this.#state = 'plain'
        }
        return
      case 'body':
        this.#feedBody(word)
        return
      case 'plain':
        return
    }
  }

  #feedBody(word: string | undefined): void {
    const afterEnd = this.#afterEnd
    this.#afterEnd = false
    if (word === undefined) return
    if (afterEnd && END_QUALIFIERS.has(word)) {
      this.depth++ // `END IF` & co. closed nothing that was counted: undo the END
    } else if (afterEnd && word === 'CASE') {
      // `END CASE` closed the CASE counted earlier
    } else if (word === 'BEGIN' || word === 'CASE') {
      this.depth++
    } else if (word === 'END' && this.depth > 0) {
      this.depth--
      this.#afterEnd = true
    }
  }
}
