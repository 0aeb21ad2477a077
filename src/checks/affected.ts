import type { DialectName } from '../dialects/dialect.js'
import type { Operation } from '../ops/operation.js'
import { SqlLexer, type SqlTokenKind } from '../sql/lexer.js'

/** The tables a set of ops reads or changes, as named in the ops and parsed from their raw SQL. */
export interface Affected {
  readonly tables: ReadonlySet<string>
  /** Raw SQL whose effects cannot be read from its text (`DO`, `CALL`): any table may change. */
  readonly unknown: readonly string[]
}

/** Words after which the next name is a table. */
const TABLE_KEYWORDS = new Set(['table', 'into', 'update', 'from', 'join', 'references'])
/** Words that may sit between a keyword and its table name. */
const SKIPPED = new Set(['if', 'not', 'exists', 'only', 'ignore', 'low_priority', 'temporary', 'temp', 'unlogged', 'lateral', 'concurrently'])
/** Statements whose effect is code, not text strata can read. */
const OPAQUE = new Set(['do', 'call', 'exec', 'execute'])

export function affectedBy(ops: readonly Operation[], dialect: DialectName): Affected {
  const tables = new Set<string>()
  const unknown: string[] = []
  for (const op of ops) {
    switch (op.kind) {
      case 'execute': {
        const found = tablesInSql(op.sql, dialect)
        for (const t of found.tables) tables.add(t)
        if (found.opaque) unknown.push(firstLine(op.sql))
        break
      }
      case 'renameTable':
        tables.add(op.from)
        tables.add(op.to)
        break
      case 'dropIndex':
        if (op.table) tables.add(op.table)
        else unknown.push(`dropIndex ${op.name}`)
        break
      case 'addForeignKey':
        tables.add(op.table)
        tables.add(op.refTable)
        break
      default:
        tables.add(op.table)
    }
  }
  return { tables, unknown }
}

/**
 * Table names in SQL text, read with strata's lexer so strings and comments never count: the
 * name after TABLE, INTO, UPDATE, FROM, JOIN, REFERENCES, `INDEX … ON`, and `RENAME TO`.
 * Schema-qualified names give their last part.
 */
export function tablesInSql(sql: string, dialect: DialectName): { tables: Set<string>; opaque: boolean } {
  const tables = new Set<string>()
  const lexer = new SqlLexer(sql, dialect)
  let expect = false
  let sawIndex = false
  let previous = ''
  let first = true
  let opaque = false
  let captured: string | null = null
  while (lexer.next()) {
    if (lexer.kind === 'comment') continue
    if (lexer.kind === 'delimiter') {
      first = true
      sawIndex = false
      expect = false
      continue
    }
    const word = lexer.kind === 'word' ? lexer.text.toLowerCase() : ''
    if (first && word) {
      if (OPAQUE.has(word)) opaque = true
      first = false
    }
    if (expect) {
      if (word && SKIPPED.has(word)) continue
      const name = tokenName(lexer)
      if (name !== null) {
        tables.add(name)
        expect = false
        captured = name
        previous = word
        continue
      }
      expect = false
    }
    if (captured !== null && lexer.kind === 'symbol' && lexer.text === '.') {
      // `schema.table`: the part after the dot is the table.
      const part = lexer.next() ? tokenName(lexer) : null
      if (part !== null) {
        tables.delete(captured)
        tables.add(part)
      }
      captured = null
      continue
    }
    captured = null
    if (word === 'index') sawIndex = true
    if (TABLE_KEYWORDS.has(word) || (word === 'on' && sawIndex) || (word === 'to' && previous === 'rename')) {
      expect = true
      if (word === 'on') sawIndex = false
    }
    previous = word || lexer.text
  }
  return { tables, opaque }
}

/** The current token as a name, or null when it is not a word or a quoted identifier. */
function tokenName(lexer: SqlLexer): string | null {
  const kind: SqlTokenKind = lexer.kind
  return kind === 'word' ? lexer.text : kind === 'quoted' ? unquote(lexer.text) : null
}

function unquote(text: string): string {
  const open = text[0]
  if (open === '"' || open === '`' || open === '[') return text.slice(1, -1).replace(open === '"' ? /""/g : /``/g, open === '"' ? '"' : '`')
  return text
}

function firstLine(sql: string): string {
  return sql.trim().split('\n')[0]!.slice(0, 80)
}
