import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { DialectName } from '../../src/dialects/dialect.js'
import { StrataError } from '../../src/errors/index.js'
import { hasStatements, splitStatements } from '../../src/sql/index.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/sql/', import.meta.url))
const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres', 'mysql']

type Expected =
  | readonly { readonly line: number; readonly sql: string }[]
  | { readonly error: { readonly code: string; readonly line: number; readonly message: string } }

/** `<dialect>-<case>.sql`; `all-<case>.sql` runs once per dialect with the same expectation. */
function goldenCases(): {
  name: string
  dialect: DialectName
  input: string
  expected: Expected
}[] {
  const cases = []
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const name = file.slice(0, -'.sql'.length)
    const prefix = name.split('-')[0]
    const dialects = prefix === 'all' ? DIALECTS : DIALECTS.filter((d) => d === prefix)
    if (dialects.length === 0)
      throw new Error(`fixture ${file} must start with all- or a dialect name`)
    const input = readFileSync(join(FIXTURES, file), 'utf8')
    const expected = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Expected
    for (const dialect of dialects) cases.push({ name, dialect, input, expected })
  }
  return cases
}

describe('splitStatements golden files (test/fixtures/sql)', () => {
  it.each(goldenCases())('$name on $dialect', ({ dialect, input, expected }) => {
    if ('error' in expected) {
      const error = captureError(() => splitStatements(input, dialect))
      expect({ code: error.code, line: error.details.line, message: error.message }).toEqual(
        expected.error,
      )
    } else {
      expect(splitStatements(input, dialect)).toEqual(expected)
      expect(hasStatements(input, dialect)).toBe(expected.length > 0)
    }
  })

  it('has a fixture for every dialect', () => {
    const names = readdirSync(FIXTURES)
    for (const dialect of DIALECTS)
      expect(names.some((n) => n.startsWith(`${dialect}-`))).toBe(true)
  })
})

describe('splitStatements options', () => {
  it('numbers lines from firstLine', () => {
    expect(splitStatements('\nSELECT 1;\nSELECT 2;', 'sqlite', { firstLine: 10 })).toEqual([
      { sql: 'SELECT 1', line: 11 },
      { sql: 'SELECT 2', line: 12 },
    ])
  })

  it('names the file in errors', () => {
    const error = captureError(() =>
      splitStatements("SELECT 'x", 'postgres', { file: 'm/001.sql', firstLine: 4 }),
    )
    expect(error.message).toMatchInlineSnapshot(`"m/001.sql:4: unterminated string '"`)
    expect(error.details).toMatchObject({ file: 'm/001.sql', line: 4 })
    expect(error.hint).toMatchInlineSnapshot(
      `"close the string ' opened on line 4; everything after it was read as part of it"`,
    )
  })

  it('keeps a comment on the line after a statement with the next statement', () => {
    expect(splitStatements('SELECT 1; -- about 1\n-- about 2\nSELECT 2;', 'sqlite')).toEqual([
      { sql: 'SELECT 1', line: 1 },
      { sql: '-- about 2\nSELECT 2', line: 3 },
    ])
  })

  it('keeps a lint-ignore line inside the statement below it', () => {
    const sql = 'CREATE TABLE a (x INT);\n-- strata:lint-ignore drop-table\nDROP TABLE b;\n'
    expect(splitStatements(sql, 'postgres')[1]).toEqual({
      sql: '-- strata:lint-ignore drop-table\nDROP TABLE b',
      line: 3,
    })
  })

  it('ends a trigger body only at its END when triggers nest CASE and BEGIN', () => {
    const sql =
      'CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 2 END; END; SELECT 3;'
    expect(splitStatements(sql, 'sqlite').map((s) => s.sql)).toEqual([
      'CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 2 END; END',
      'SELECT 3',
    ])
  })

  it('does not treat a DELIMITER word inside a statement as a directive', () => {
    expect(splitStatements('SELECT 1 AS x,\nDELIMITER FROM t;', 'mysql')).toEqual([
      { sql: 'SELECT 1 AS x,\nDELIMITER FROM t', line: 1 },
    ])
  })

  it('keeps a BOM out of the first statement', () => {
    expect(splitStatements('\uFEFFSELECT 1;', 'sqlite')).toEqual([{ sql: 'SELECT 1', line: 1 }])
  })
})

describe('hasStatements', () => {
  it.each(DIALECTS)('is false for comments only and true for one statement (%s)', (dialect) => {
    expect(hasStatements('-- a\n/* b; */\n;\n', dialect)).toBe(false)
    expect(hasStatements('-- a\nSELECT 1', dialect)).toBe(true)
  })
})

describe('splitStatements performance', () => {
  it.each(DIALECTS)('splits a 5 MB script in linear time (%s)', (dialect) => {
    const chunk =
      "-- row\nINSERT INTO t (a, b) VALUES (1, 'it''s; a string'); /* c */\n" +
      'CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN a > 1 THEN 2 END; END;\n'
    const script = chunk.repeat(Math.ceil(5_000_000 / chunk.length))
    const started = performance.now()
    const statements = splitStatements(script, dialect)
    const elapsed = performance.now() - started
    expect(statements).toHaveLength((script.length / chunk.length) * 2)
    expect(elapsed).toBeLessThan(1000)
  })

  it('handles a long run of one character without quadratic work', () => {
    const started = performance.now()
    expect(splitStatements('('.repeat(2_000_000), 'sqlite')).toHaveLength(1)
    expect(splitStatements(`SELECT '${'\\'.repeat(2_000_000)}';`, 'mysql')).toHaveLength(1)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

function captureError(fn: () => unknown): StrataError {
  try {
    fn()
  } catch (error) {
    if (error instanceof StrataError) return error
    throw error
  }
  throw new Error('expected a StrataError')
}
