import type { DialectName } from '../dialects/dialect.js'
import { SqlLexer } from '../sql/lexer.js'

/** The statement that undoes a raw SQL statement, or why there is none (SPEC S4 journal). */
export type SqlInverse = { readonly sql: string } | { readonly reason: string }

interface Token {
  readonly kind: 'word' | 'ident' | 'other'
  /** Upper-cased for words; the text as written otherwise. */
  readonly value: string
  readonly text: string
}

const INDEX_PREFIX = new Set(['UNIQUE', 'FULLTEXT', 'SPATIAL', 'ONLINE', 'OFFLINE'])
/** `ADD <word>` forms that add something other than a column. */
const ADD_NOT_COLUMN = new Set([
  'INDEX', 'KEY', 'UNIQUE', 'PRIMARY', 'FOREIGN', 'CONSTRAINT', 'CHECK', 'FULLTEXT', 'SPATIAL', 'PARTITION', 'PERIOD', 'SYSTEM', 'IF',
])

/**
 * Derives the inverse of one raw SQL statement from its tokens (comments skipped, quoted
 * identifiers kept as written): CREATE TABLE t → DROP TABLE t; CREATE [UNIQUE] INDEX i ON t →
 * DROP INDEX i ON t; ALTER TABLE t ADD [COLUMN] c … → ALTER TABLE t DROP COLUMN c; ALTER TABLE
 * t RENAME [TO|AS] u and RENAME TABLE t TO u → renamed back; ALTER TABLE t RENAME COLUMN a TO b
 * → back; CREATE VIEW v → DROP VIEW v. Anything else (data changes, DROP, multi-clause ALTER,
 * IF NOT EXISTS / OR REPLACE forms, which may not have created anything) has no inverse.
 * The inverse is written in MySQL syntax: it is used where DDL is not transactional.
 */
export function inverseSql(sql: string, dialect: DialectName = 'mysql'): SqlInverse {
  let tokens: Token[]
  try {
    tokens = tokenize(sql, dialect)
  } catch (error) {
    return { reason: `cannot read the statement: ${error instanceof Error ? error.message : String(error)}` }
  }
  const none = (why: string): SqlInverse => ({ reason: why })
  const p = new Parser(tokens)
  const first = p.word()
  if (first === 'CREATE') {
    const prefix: string[] = []
    while (!p.done() && !['TABLE', 'INDEX', 'VIEW'].includes(p.peekWord() ?? '')) {
      const t = p.take()!
      prefix.push(t.kind === 'word' ? t.value : t.text)
    }
    const what = p.word()
    if (what === undefined) return none(`no inverse is known for CREATE ${prefix.join(' ')}`.trimEnd())
    if (prefix.includes('OR') || prefix.includes('REPLACE')) return none(`CREATE OR REPLACE ${what} may have replaced an existing one`)
    if (prefix.includes('TEMPORARY')) return none('a temporary table is not part of the schema')
    if (p.peekIfNotExists()) return none(`CREATE ${what} IF NOT EXISTS may not have created anything`)
    if (what === 'TABLE') {
      if (prefix.length > 0) return none(`no inverse is known for CREATE ${prefix.join(' ')} TABLE`)
      const name = p.name()
      return name ? { sql: `DROP TABLE ${name}` } : none('cannot read the table name')
    }
    if (what === 'INDEX') {
      if (!prefix.every((w) => INDEX_PREFIX.has(w))) return none(`no inverse is known for CREATE ${prefix.join(' ')} INDEX`)
      const index = p.ident()
      if (!index) return none('cannot read the index name')
      // USING BTREE may come before ON.
      while (!p.done() && p.peekWord() !== 'ON') p.take()
      if (p.word() !== 'ON') return none('cannot find the table of the index')
      const table = p.name()
      return table ? { sql: `DROP INDEX ${index} ON ${table}` } : none('cannot read the table name')
    }
    const view = p.name()
    return view ? { sql: `DROP VIEW ${view}` } : none('cannot read the view name')
  }
  if (first === 'RENAME') {
    if (p.word() !== 'TABLE') return none('no inverse is known for this RENAME')
    const from = p.name()
    if (!from || p.word() !== 'TO') return none('cannot read RENAME TABLE')
    const to = p.name()
    if (!to || !p.done()) return none('RENAME TABLE of more than one table has no derived inverse')
    return { sql: `RENAME TABLE ${to} TO ${from}` }
  }
  if (first === 'ALTER') {
    while (p.peekWord() === 'ONLINE' || p.peekWord() === 'IGNORE') p.take()
    if (p.word() !== 'TABLE') return none('only ALTER TABLE has a derived inverse')
    if (p.peekWord() === 'IF') return none('ALTER TABLE IF EXISTS has no derived inverse')
    const table = p.name()
    if (!table) return none('cannot read the table name')
    if (p.hasTopLevelComma()) return none('an ALTER TABLE with several clauses has no derived inverse')
    const action = p.word()
    if (action === 'ADD') {
      if (p.peekWord() === 'COLUMN') p.take()
      else if (ADD_NOT_COLUMN.has(p.peekWord() ?? '')) return none(`ALTER TABLE … ADD ${p.peekWord()} has no derived inverse`)
      if (p.peekWord() === 'IF') return none('ADD COLUMN IF NOT EXISTS may not have added anything')
      const column = p.ident()
      return column ? { sql: `ALTER TABLE ${table} DROP COLUMN ${column}` } : none('cannot read the column name')
    }
    if (action === 'RENAME') {
      const kind = p.peekWord()
      if (kind === 'COLUMN' || kind === 'INDEX' || kind === 'KEY') {
        p.take()
        const from = p.ident()
        if (!from || p.word() !== 'TO') return none(`cannot read RENAME ${kind}`)
        const to = p.ident()
        if (!to || !p.done()) return none(`cannot read RENAME ${kind}`)
        return { sql: `ALTER TABLE ${table} RENAME ${kind} ${to} TO ${from}` }
      }
      if (kind === 'TO' || kind === 'AS') p.take()
      const to = p.name()
      if (!to || !p.done()) return none('cannot read RENAME TO')
      return { sql: `ALTER TABLE ${to} RENAME TO ${table}` }
    }
    return none(`ALTER TABLE … ${action ?? ''} has no derived inverse`.replace(/ +$/, ''))
  }
  if (first && ['INSERT', 'UPDATE', 'DELETE', 'REPLACE'].includes(first)) return none(`${first} changes data, which cannot be undone`)
  return none(`${first ?? 'this statement'} has no derived inverse`)
}

function tokenize(sql: string, dialect: DialectName): Token[] {
  const lexer = new SqlLexer(sql, dialect)
  const tokens: Token[] = []
  let ended = false
  while (lexer.next()) {
    if (lexer.kind === 'comment') continue
    const text = lexer.text
    if (ended) throw new Error('more than one statement')
    if (lexer.kind === 'delimiter') {
      ended = true
      continue
    }
    if (lexer.kind === 'quoted' && text.startsWith('/*')) throw new Error('an executable comment /*! … */ may run anything')
    if (lexer.kind === 'word') tokens.push({ kind: 'word', value: text.toUpperCase(), text })
    else if (lexer.kind === 'quoted' && (text.startsWith('`') || text.startsWith('"'))) tokens.push({ kind: 'ident', value: text, text })
    else tokens.push({ kind: 'other', value: text, text })
  }
  return tokens
}

class Parser {
  #i = 0
  constructor(private readonly tokens: readonly Token[]) {}

  done(): boolean {
    return this.#i >= this.tokens.length
  }

  take(): Token | undefined {
    return this.tokens[this.#i++]
  }

  peekWord(): string | undefined {
    const t = this.tokens[this.#i]
    return t?.kind === 'word' ? t.value : undefined
  }

  word(): string | undefined {
    const w = this.peekWord()
    if (w !== undefined) this.#i++
    return w
  }

  /** Consumes `IF NOT EXISTS` when next; true when it was there. */
  peekIfNotExists(): boolean {
    const [a, b, c] = this.tokens.slice(this.#i, this.#i + 3).map((t) => (t.kind === 'word' ? t.value : ''))
    if (a === 'IF' && b === 'NOT' && c === 'EXISTS') {
      this.#i += 3
      return true
    }
    return false
  }

  /** One identifier, as written (quotes kept). */
  ident(): string | undefined {
    const t = this.tokens[this.#i]
    if (!t || t.kind === 'other') return undefined
    this.#i++
    return t.text
  }

  /** A possibly qualified name (`db`.`t`), as written. */
  name(): string | undefined {
    let out = this.ident()
    if (out === undefined) return undefined
    while (this.tokens[this.#i]?.value === '.') {
      this.#i++
      const part = this.ident()
      if (part === undefined) return undefined
      out += `.${part}`
    }
    return out
  }

  /** A comma outside parentheses in the rest of the statement (several ALTER clauses). */
  hasTopLevelComma(): boolean {
    let depth = 0
    for (const t of this.tokens.slice(this.#i)) {
      if (t.kind !== 'other') continue
      if (t.value === '(') depth++
      else if (t.value === ')') depth--
      else if (t.value === ',' && depth === 0) return true
    }
    return false
  }
}
