import { isName, isWord, matchParen, nameOf, splitTopLevel, tokenize, type Token } from './sqlite-tokens.js'

/**
 * Reads SQLite CREATE TABLE / CREATE INDEX text (as kept in `sqlite_master.sql`) into its parts,
 * keeping each part's exact text so a table rebuild can copy what it does not change. Works on
 * tokens, so quotes, comments and nested parentheses never confuse it.
 */

/** A REFERENCES clause: parent table, parent columns (empty when omitted) and actions. */
export interface ParsedReference {
  readonly table: string
  readonly columns: readonly string[]
  readonly onDelete?: string
  readonly onUpdate?: string
}

/** Kinds of column clause; `other` keeps words the parser does not know, verbatim. */
export type ColumnConstraintKind =
  | 'primaryKey' | 'notNull' | 'null' | 'unique' | 'check' | 'default' | 'collate' | 'references' | 'generated' | 'other'

/** One clause of a column definition (NOT NULL, DEFAULT …, CHECK (…), REFERENCES …). */
export interface ParsedColumnConstraint {
  readonly kind: ColumnConstraintKind
  /** The `CONSTRAINT name`, or null. */
  readonly name: string | null
  /** The whole clause as written, `CONSTRAINT name` included. */
  readonly text: string
  /** CHECK / generated: the expression inside the parentheses; DEFAULT: the value as written. */
  readonly expression?: string
  readonly autoIncrement?: boolean
  readonly reference?: ParsedReference
}

/** One column definition of a CREATE TABLE. */
export interface ParsedColumn {
  readonly name: string
  /** The name as written (quotes kept). */
  readonly nameText: string
  /** The declared type as written, '' when none. */
  readonly type: string
  readonly constraints: readonly ParsedColumnConstraint[]
  /** The whole definition as written. */
  readonly text: string
}

/** Kinds of table-level constraint. */
export type TableConstraintKind = 'primaryKey' | 'unique' | 'check' | 'foreignKey'

/** One table-level constraint of a CREATE TABLE. */
export interface ParsedTableConstraint {
  readonly kind: TableConstraintKind
  readonly name: string | null
  readonly text: string
  /** Column names (an expression's text for an indexed expression). */
  readonly columns: readonly string[]
  readonly expression?: string
  readonly reference?: ParsedReference
}

/** A CREATE TABLE statement in parts. */
export interface ParsedTable {
  readonly name: string
  readonly columns: readonly ParsedColumn[]
  readonly constraints: readonly ParsedTableConstraint[]
  /** The text after the closing parenthesis (` STRICT`, ` WITHOUT ROWID`), as written. */
  readonly options: string
}

/** A CREATE INDEX statement in parts. */
export interface ParsedIndex {
  readonly name: string
  readonly table: string
  readonly unique: boolean
  /** Column names, or an expression's text for an indexed expression. */
  readonly columns: readonly string[]
  readonly where: string | null
}

/** Words that end a column's type and start one of its constraints. */
const COLUMN_CONSTRAINT_START: ReadonlySet<string> = new Set([
  'CONSTRAINT', 'PRIMARY', 'NOT', 'NULL', 'UNIQUE', 'CHECK', 'DEFAULT', 'COLLATE', 'REFERENCES', 'GENERATED', 'AS',
])
const TABLE_CONSTRAINT_START: ReadonlySet<string> = new Set(['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN'])

/** Parses `CREATE [TEMP] TABLE [IF NOT EXISTS] [schema.]name (…) [options]`; undefined otherwise. */
export function parseCreateTable(sql: string): ParsedTable | undefined {
  const tokens = tokenize(sql)
  let i = 0
  if (!isWord(tokens[i++], 'CREATE')) return undefined
  if (isWord(tokens[i], 'TEMP') || isWord(tokens[i], 'TEMPORARY')) i++
  if (!isWord(tokens[i++], 'TABLE')) return undefined
  if (isWord(tokens[i], 'IF')) i += 3
  const nameAt = tokens[i + 1]?.text === '.' ? i + 2 : i
  const nameToken = tokens[nameAt]
  const open = nameAt + 1
  if (!isName(nameToken) || tokens[open]?.text !== '(') return undefined
  const close = matchParen(tokens, open)
  const columns: ParsedColumn[] = []
  const constraints: ParsedTableConstraint[] = []
  for (const [from, to] of splitTopLevel(tokens, open + 1, close)) {
    const first = tokens[from]!
    if (first.kind === 'word' && TABLE_CONSTRAINT_START.has(first.text.toUpperCase())) {
      constraints.push(parseTableConstraint(sql, tokens, from, to))
    } else {
      columns.push(parseColumnTokens(sql, tokens, from, to))
    }
  }
  const closeToken = tokens[close]!
  return { name: nameOf(nameToken), columns, constraints, options: sql.slice(closeToken.end).trimEnd() }
}

/** Parses one column definition such as `"id" INTEGER PRIMARY KEY AUTOINCREMENT`. */
export function parseColumnDefinition(text: string): ParsedColumn {
  const tokens = tokenize(text)
  return parseColumnTokens(text, tokens, 0, tokens.length)
}

/** Parses `CREATE [UNIQUE] INDEX [IF NOT EXISTS] [schema.]name ON table (…) [WHERE …]`. */
export function parseCreateIndex(sql: string): ParsedIndex | undefined {
  const tokens = tokenize(sql)
  let i = 0
  if (!isWord(tokens[i++], 'CREATE')) return undefined
  const unique = isWord(tokens[i], 'UNIQUE')
  if (unique) i++
  if (!isWord(tokens[i++], 'INDEX')) return undefined
  if (isWord(tokens[i], 'IF')) i += 3
  if (tokens[i + 1]?.text === '.') i += 2
  const nameToken = tokens[i++]
  if (!isName(nameToken) || !isWord(tokens[i++], 'ON')) return undefined
  const tableToken = tokens[i++]
  if (!isName(tableToken) || tokens[i]?.text !== '(') return undefined
  const close = matchParen(tokens, i)
  const columns = splitTopLevel(tokens, i + 1, close).map(([from, to]) => indexedColumn(sql, tokens, from, to))
  const whereAt = close + 1
  const where = isWord(tokens[whereAt], 'WHERE') ? sql.slice(tokens[whereAt + 1]?.start ?? sql.length).trim() : null
  return { name: nameOf(nameToken), table: nameOf(tableToken), unique, columns, where: where || null }
}

function parseColumnTokens(sql: string, tokens: readonly Token[], from: number, to: number): ParsedColumn {
  const nameToken = tokens[from]!
  let i = from + 1
  while (i < to && isName(tokens[i]) && !isConstraintStart(tokens[i]!)) i++
  if (i < to && tokens[i]!.text === '(') i = matchParen(tokens, i) + 1
  const type = i > from + 1 ? sql.slice(tokens[from + 1]!.start, tokens[i - 1]!.end) : ''
  const clauses: Array<{ body: ClauseBody; name: string | null; start: number; end: number }> = []
  while (i < to) {
    const start = i
    let name: string | null = null
    if (isWord(tokens[i], 'CONSTRAINT') && i + 1 < to) {
      name = nameOf(tokens[i + 1]!)
      i += 2
    }
    const parsed = i < to ? columnConstraintAt(sql, tokens, i, to) : undefined
    if (parsed) {
      clauses.push({ body: parsed.constraint, name, start, end: Math.min(parsed.end, to) })
      i = parsed.end
      continue
    }
    // Words this parser does not know: kept as an 'other' clause, so no text is ever lost.
    const last = clauses.at(-1)
    i = Math.max(i, start + 1)
    if (last && last.body.kind === 'other' && last.end === start) last.end = i
    else clauses.push({ body: { kind: 'other' }, name, start, end: i })
  }
  const constraints = clauses.map(({ body, name, start, end }) =>
    withNameAndText(body, name, sql.slice(tokens[start]!.start, tokens[end - 1]!.end)),
  )
  return {
    name: nameOf(nameToken),
    nameText: nameToken.text,
    type,
    constraints,
    text: sql.slice(nameToken.start, tokens[to - 1]!.end),
  }
}

/**
 * The clause with its name and text after the body's fields (a body has at most one besides
 * `kind`). Written out rather than spread: spreading objects of many shapes is slow in V8, and
 * every clause of every column of every table goes through here.
 */
function withNameAndText(body: ClauseBody, name: string | null, text: string): ParsedColumnConstraint {
  if (body.expression !== undefined) return { kind: body.kind, expression: body.expression, name, text }
  if (body.autoIncrement !== undefined) return { kind: body.kind, autoIncrement: body.autoIncrement, name, text }
  if (body.reference !== undefined) return { kind: body.kind, reference: body.reference, name, text }
  return { kind: body.kind, name, text }
}

function isConstraintStart(token: Token): boolean {
  return token.kind === 'word' && COLUMN_CONSTRAINT_START.has(token.text.toUpperCase())
}

type ClauseBody = Omit<ParsedColumnConstraint, 'name' | 'text'>

function columnConstraintAt(
  sql: string,
  tokens: readonly Token[],
  i: number,
  to: number,
): { constraint: ClauseBody; end: number } | undefined {
  const word = tokens[i]!.kind === 'word' ? tokens[i]!.text.toUpperCase() : ''
  const inner = (open: number): string => sql.slice(tokens[open]!.end, tokens[matchParen(tokens, open)]!.start).trim()
  switch (word) {
    case 'PRIMARY': {
      let end = i + 2
      if (isWord(tokens[end], 'ASC') || isWord(tokens[end], 'DESC')) end++
      end = skipConflict(tokens, end)
      const autoIncrement = isWord(tokens[end], 'AUTOINCREMENT')
      return { constraint: { kind: 'primaryKey', ...(autoIncrement ? { autoIncrement } : {}) }, end: autoIncrement ? end + 1 : end }
    }
    case 'NOT':
      return { constraint: { kind: 'notNull' }, end: skipConflict(tokens, i + 2) }
    case 'NULL':
      return { constraint: { kind: 'null' }, end: skipConflict(tokens, i + 1) }
    case 'UNIQUE':
      return { constraint: { kind: 'unique' }, end: skipConflict(tokens, i + 1) }
    case 'CHECK':
      return { constraint: { kind: 'check', expression: inner(i + 1) }, end: matchParen(tokens, i + 1) + 1 }
    case 'DEFAULT': {
      let end = i + 1
      const t = tokens[end]
      if (t?.text === '(') end = matchParen(tokens, end) + 1
      else if ((t?.text === '-' || t?.text === '+') && tokens[end + 1]) end += 2
      else end += 1
      const expression = sql.slice(tokens[i + 1]?.start ?? sql.length, tokens[end - 1]!.end)
      return { constraint: { kind: 'default', expression }, end }
    }
    case 'COLLATE':
      return { constraint: { kind: 'collate', expression: tokens[i + 1] ? nameOf(tokens[i + 1]!) : '' }, end: i + 2 }
    case 'REFERENCES': {
      const ref = parseReference(tokens, i + 1, to)
      return { constraint: { kind: 'references', reference: ref.reference }, end: ref.end }
    }
    case 'GENERATED':
    case 'AS': {
      let open = i
      while (open < to && tokens[open]!.text !== '(') open++
      let end = matchParen(tokens, open) + 1
      if (isWord(tokens[end], 'STORED') || isWord(tokens[end], 'VIRTUAL')) end++
      return { constraint: { kind: 'generated', expression: inner(open) }, end }
    }
  }
  return undefined
}

/** Skips `ON CONFLICT <resolution>` at `i`. */
function skipConflict(tokens: readonly Token[], i: number): number {
  return isWord(tokens[i], 'ON') && isWord(tokens[i + 1], 'CONFLICT') ? i + 3 : i
}

/** Parses `table [(cols)] [ON DELETE|UPDATE action] [MATCH x] [[NOT] DEFERRABLE [INITIALLY x]]`. */
function parseReference(tokens: readonly Token[], i: number, to: number): { reference: ParsedReference; end: number } {
  const table = tokens[i] ? nameOf(tokens[i]!) : ''
  let end = i + 1
  let columns: string[] = []
  if (tokens[end]?.text === '(') {
    const close = matchParen(tokens, end)
    columns = tokens.slice(end + 1, close).filter(isName).map(nameOf)
    end = close + 1
  }
  let onDelete: string | undefined
  let onUpdate: string | undefined
  while (end < to) {
    if (isWord(tokens[end], 'ON') && (isWord(tokens[end + 1], 'DELETE') || isWord(tokens[end + 1], 'UPDATE'))) {
      const two = isWord(tokens[end + 2], 'SET') || isWord(tokens[end + 2], 'NO')
      const action = tokens.slice(end + 2, end + (two ? 4 : 3)).map((t) => t.text.toUpperCase()).join(' ')
      if (isWord(tokens[end + 1], 'DELETE')) onDelete = action
      else onUpdate = action
      end += two ? 4 : 3
    } else if (isWord(tokens[end], 'MATCH')) {
      end += 2
    } else if (isWord(tokens[end], 'DEFERRABLE') || (isWord(tokens[end], 'NOT') && isWord(tokens[end + 1], 'DEFERRABLE'))) {
      end += isWord(tokens[end], 'NOT') ? 2 : 1
      if (isWord(tokens[end], 'INITIALLY')) end += 2
    } else break
  }
  const reference: ParsedReference = { table, columns, ...(onDelete ? { onDelete } : {}), ...(onUpdate ? { onUpdate } : {}) }
  return { reference, end }
}

function parseTableConstraint(sql: string, tokens: readonly Token[], from: number, to: number): ParsedTableConstraint {
  let i = from
  let name: string | null = null
  if (isWord(tokens[i], 'CONSTRAINT')) {
    name = nameOf(tokens[i + 1]!)
    i += 2
  }
  const text = sql.slice(tokens[from]!.start, tokens[to - 1]!.end)
  const listAt = (open: number): string[] => {
    if (tokens[open]?.text !== '(') return []
    return splitTopLevel(tokens, open + 1, matchParen(tokens, open)).map(([a, b]) => indexedColumn(sql, tokens, a, b))
  }
  if (isWord(tokens[i], 'CHECK')) {
    const open = i + 1
    const expression = sql.slice(tokens[open]!.end, tokens[matchParen(tokens, open)]!.start).trim()
    return { kind: 'check', name, text, columns: [], expression }
  }
  if (isWord(tokens[i], 'FOREIGN')) {
    const open = i + 2
    const columns = listAt(open)
    const close = matchParen(tokens, open)
    const { reference } = isWord(tokens[close + 1], 'REFERENCES') ? parseReference(tokens, close + 2, to) : { reference: undefined }
    return { kind: 'foreignKey', name, text, columns, ...(reference ? { reference } : {}) }
  }
  const primary = isWord(tokens[i], 'PRIMARY')
  return { kind: primary ? 'primaryKey' : 'unique', name, text, columns: listAt(primary ? i + 2 : i + 1) }
}

/** An indexed column: its name when it is a plain column (with COLLATE / ASC / DESC), else the text. */
function indexedColumn(sql: string, tokens: readonly Token[], from: number, to: number): string {
  const first = tokens[from]!
  let i = from + 1
  if (isWord(tokens[i], 'COLLATE')) i += 2
  if (isWord(tokens[i], 'ASC') || isWord(tokens[i], 'DESC')) i++
  if (isName(first) && first.kind !== 'string' && i >= to && tokens[from + 1]?.text !== '(') return nameOf(first)
  return sql.slice(first.start, tokens[to - 1]!.end)
}
