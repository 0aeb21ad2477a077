import { describe, expect, it } from 'vitest'
import { parseColumnDefinition, parseCreateIndex, parseCreateTable } from '../../src/dialects/sqlite/sqlite-ddl-parser.js'
import { mentionsAny, nameOf, replaceIdentifiers, tokenize } from '../../src/dialects/sqlite/sqlite-tokens.js'

// The tokenizer and the CREATE TABLE / CREATE INDEX parser behind the introspector and rebuilds.

describe('sqlite tokenizer', () => {
  it('tells strings, quoted identifiers, blobs, numbers, params and operators apart; drops comments', () => {
    const tokens = tokenize(`SELECT 'it''s', "a""b", [c d], \`e\`\`f\`, x'0A', 1.5e-3, 0x1F, ?1, :name, a->>'$.b', x <> y -- gone\n/* gone ) */ ;`)
    expect(tokens.map((t) => [t.kind, t.text])).toEqual([
      ['word', 'SELECT'], ['string', "'it''s'"], ['symbol', ','], ['ident', '"a""b"'], ['symbol', ','], ['ident', '[c d]'], ['symbol', ','],
      ['ident', '`e``f`'], ['symbol', ','], ['blob', "x'0A'"], ['symbol', ','], ['number', '1.5e-3'], ['symbol', ','], ['number', '0x1F'],
      ['symbol', ','], ['param', '?1'], ['symbol', ','], ['param', ':name'], ['symbol', ','], ['word', 'a'], ['symbol', '->>'],
      ['string', "'$.b'"], ['symbol', ','], ['word', 'x'], ['symbol', '<>'], ['word', 'y'], ['symbol', ';'],
    ])
    expect(tokens.slice(1, 8).filter((t) => t.kind !== 'symbol').map(nameOf)).toEqual(["it's", 'a"b', 'c d', 'e`f'])
  })

  it('runs an unterminated quote or comment to the end', () => {
    expect(tokenize("a 'open").map((t) => t.text)).toEqual(['a', "'open"])
    expect(tokenize('a /* open').map((t) => t.text)).toEqual(['a'])
  })

  it('finds and rewrites identifiers, never inside strings or function names', () => {
    expect(mentionsAny("SELECT 'users' FROM people", new Set(['users']))).toBe(false)
    expect(mentionsAny('SELECT * FROM main."Users"', new Set(['users']))).toBe(true)
    expect(replaceIdentifiers("count > 1 AND \"count\" < 'count' AND count(*) > 0", new Map([['count', '"n"']]))).toBe(
      '"n" > 1 AND "n" < \'count\' AND count(*) > 0',
    )
  })
})

describe('sqlite CREATE TABLE parser', () => {
  it('splits columns and table constraints at top-level commas only', () => {
    const table = parseCreateTable(`CREATE TEMP TABLE IF NOT EXISTS main."t" (
      a NUMERIC(10, 2) DEFAULT (round(1.5, 1)) CHECK (a IN (1, 2)),
      "b" DOUBLE PRECISION NOT NULL ON CONFLICT FAIL,
      c TEXT DEFAULT 'x, y' COLLATE BINARY,
      CONSTRAINT "u" UNIQUE (a, "b" COLLATE NOCASE DESC),
      PRIMARY KEY (c),
      FOREIGN KEY (a, c) REFERENCES p (x, y) ON DELETE NO ACTION ON UPDATE SET DEFAULT MATCH FULL
    ) WITHOUT ROWID, STRICT`)
    expect(table?.name).toBe('t')
    expect(table?.options).toBe(' WITHOUT ROWID, STRICT')
    expect(table?.columns.map((c) => [c.name, c.type, c.constraints.map((k) => [k.kind, k.text])])).toEqual([
      ['a', 'NUMERIC(10, 2)', [['default', 'DEFAULT (round(1.5, 1))'], ['check', 'CHECK (a IN (1, 2))']]],
      ['b', 'DOUBLE PRECISION', [['notNull', 'NOT NULL ON CONFLICT FAIL']]],
      ['c', 'TEXT', [['default', "DEFAULT 'x, y'"], ['collate', 'COLLATE BINARY']]],
    ])
    expect(table?.constraints).toEqual([
      { kind: 'unique', name: 'u', text: 'CONSTRAINT "u" UNIQUE (a, "b" COLLATE NOCASE DESC)', columns: ['a', 'b'] },
      { kind: 'primaryKey', name: null, text: 'PRIMARY KEY (c)', columns: ['c'] },
      {
        kind: 'foreignKey',
        name: null,
        text: 'FOREIGN KEY (a, c) REFERENCES p (x, y) ON DELETE NO ACTION ON UPDATE SET DEFAULT MATCH FULL',
        columns: ['a', 'c'],
        reference: { table: 'p', columns: ['x', 'y'], onDelete: 'NO ACTION', onUpdate: 'SET DEFAULT' },
      },
    ])
  })

  it('reads column constraints: named, AUTOINCREMENT, DEFAULT NULL vs NULL, REFERENCES … NOT DEFERRABLE then NOT NULL, generated', () => {
    const column = (text: string) => parseColumnDefinition(text).constraints.map((k) => ({ kind: k.kind, name: k.name, text: k.text }))
    expect(column('id INTEGER CONSTRAINT pk PRIMARY KEY DESC ON CONFLICT ROLLBACK AUTOINCREMENT')).toEqual([
      { kind: 'primaryKey', name: 'pk', text: 'CONSTRAINT pk PRIMARY KEY DESC ON CONFLICT ROLLBACK AUTOINCREMENT' },
    ])
    expect(parseColumnDefinition('id INTEGER PRIMARY KEY AUTOINCREMENT').constraints[0]?.autoIncrement).toBe(true)
    expect(column('x DEFAULT NULL NULL DEFAULT -5')).toEqual([
      { kind: 'default', name: null, text: 'DEFAULT NULL' },
      { kind: 'null', name: null, text: 'NULL' },
      { kind: 'default', name: null, text: 'DEFAULT -5' },
    ])
    expect(column('o INT REFERENCES orgs ON DELETE SET NULL NOT DEFERRABLE INITIALLY IMMEDIATE NOT NULL')).toEqual([
      { kind: 'references', name: null, text: 'REFERENCES orgs ON DELETE SET NULL NOT DEFERRABLE INITIALLY IMMEDIATE' },
      { kind: 'notNull', name: null, text: 'NOT NULL' },
    ])
    expect(column('g INT GENERATED ALWAYS AS (a + 1) STORED UNIQUE')).toEqual([
      { kind: 'generated', name: null, text: 'GENERATED ALWAYS AS (a + 1) STORED' },
      { kind: 'unique', name: null, text: 'UNIQUE' },
    ])
    expect(column('odd TEXT NOT NULL HIDDEN WORDS')).toEqual([
      { kind: 'notNull', name: null, text: 'NOT NULL' },
      { kind: 'other', name: null, text: 'HIDDEN WORDS' },
    ])
  })

  it('returns undefined for what is not a CREATE TABLE with columns', () => {
    expect(parseCreateTable('CREATE VIRTUAL TABLE d USING fts5(body)')).toBeUndefined()
    expect(parseCreateTable('CREATE VIEW v AS SELECT 1')).toBeUndefined()
  })
})

describe('sqlite CREATE INDEX parser', () => {
  it('reads name, table, columns (expressions as text) and the partial predicate', () => {
    expect(parseCreateIndex('CREATE UNIQUE INDEX IF NOT EXISTS main.[i x] ON "t" (a COLLATE NOCASE, lower(b) DESC, c ASC) WHERE a > 0 AND b IS NOT NULL')).toEqual({
      name: 'i x',
      table: 't',
      unique: true,
      columns: ['a', 'lower(b) DESC', 'c'],
      where: 'a > 0 AND b IS NOT NULL',
    })
    expect(parseCreateIndex('CREATE INDEX i ON t(a)')?.where).toBeNull()
  })
})
