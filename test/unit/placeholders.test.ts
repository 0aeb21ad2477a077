import { describe, expect, it } from 'vitest'
import { renderLiteral } from '../../src/dialects/shared/literals.js'
import { executeStatement } from '../../src/dialects/shared/execute.js'
import type { Value } from '../../src/ops/operation.js'
import { renderStatement } from '../../src/plan/offline-sql.js'
import { countPlaceholders, inlineParams, mapPlaceholders, openCommentAtEnd } from '../../src/sql/index.js'

const numbered = (sql: string): string => mapPlaceholders(sql, (i) => `$${i + 1}`)

describe('mapPlaceholders', () => {
  it('replaces each bare ? in order', () => {
    expect(numbered('INSERT INTO t (a, b) VALUES (?, ?)')).toBe('INSERT INTO t (a, b) VALUES ($1, $2)')
    expect(numbered('SELECT ?+?,?')).toBe('SELECT $1+$2,$3')
    expect(numbered('SELECT 1')).toBe('SELECT 1')
    expect(numbered('')).toBe('')
  })

  it('leaves ? inside string literals, with doubled quotes', () => {
    expect(numbered("SELECT 'why?', ?")).toBe("SELECT 'why?', $1")
    expect(numbered("SELECT 'it''s ? here', ?")).toBe("SELECT 'it''s ? here', $1")
    expect(numbered("SELECT '', ?, ''''")).toBe("SELECT '', $1, ''''")
    expect(numbered("SELECT X'3f', ?")).toBe("SELECT X'3f', $1")
  })

  it('leaves ? inside quoted identifiers', () => {
    expect(numbered('SELECT "a?" FROM t WHERE x = ?')).toBe('SELECT "a?" FROM t WHERE x = $1')
    expect(numbered('SELECT "a""?" , ?')).toBe('SELECT "a""?" , $1')
    expect(numbered('SELECT `a?`, [b?], ?')).toBe('SELECT `a?`, [b?], $1')
    expect(numbered('SELECT "it\'s", ?')).toBe('SELECT "it\'s", $1')
  })

  it('leaves ? inside comments', () => {
    expect(numbered('SELECT ? -- why?\n, ?')).toBe('SELECT $1 -- why?\n, $2')
    expect(numbered('SELECT /* ? */ ?')).toBe('SELECT /* ? */ $1')
    expect(numbered("SELECT ? /* it's ? */, ?")).toBe("SELECT $1 /* it's ? */, $2")
    expect(numbered('SELECT ? -- trailing ?')).toBe('SELECT $1 -- trailing ?')
    expect(numbered('SELECT 1 - ?')).toBe('SELECT 1 - $1')
    expect(numbered('SELECT 4 / ?')).toBe('SELECT 4 / $1')
  })

  it('runs unterminated quotes and comments to the end', () => {
    expect(numbered("SELECT ?, 'open ?")).toBe("SELECT $1, 'open ?")
    expect(numbered('SELECT ?, /* open ?')).toBe('SELECT $1, /* open ?')
    expect(numbered('SELECT ?, [open ?')).toBe('SELECT $1, [open ?')
  })

  it('leaves numbered placeholders alone and does not rescan replacements', () => {
    expect(numbered('SELECT ?1, ?')).toBe('SELECT ?1, $1')
    expect(mapPlaceholders('SELECT ?, ?', () => "'?'")).toBe("SELECT '?', '?'")
  })

  it('is linear in the length of the text', () => {
    const big = "'a''b', ".repeat(50_000) + '? ' + '"x" /* c */ -- d\n'.repeat(50_000) + '?'
    const started = performance.now()
    expect(countPlaceholders(big)).toBe(2)
    expect(performance.now() - started).toBeLessThan(1_000)
    const quotes = "'".repeat(200_001)
    expect(countPlaceholders(quotes + '?')).toBe(0)
  })
})

describe('countPlaceholders / openCommentAtEnd', () => {
  it('counts bare placeholders; null with numbered ones', () => {
    expect(countPlaceholders("SELECT ?, '?', \"?\" -- ?")).toBe(1)
    expect(countPlaceholders('SELECT ?2, ?1')).toBeNull()
  })

  it('tells the comment the text ends inside', () => {
    expect(openCommentAtEnd('SELECT 1 -- done')).toBe('--')
    expect(openCommentAtEnd('SELECT 1 -- done\n')).toBeNull()
    expect(openCommentAtEnd('SELECT 1 /* open')).toBe('/*')
    expect(openCommentAtEnd("SELECT 'a -- b'")).toBeNull()
    expect(openCommentAtEnd('SELECT 1')).toBeNull()
  })
})

describe('inlineParams', () => {
  const literal = (v: Value): string => renderLiteral(v)

  it('writes each value as a literal', () => {
    const bytes = new Uint8Array([0xde, 0xad, 0x01])
    expect(inlineParams('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', ["it's", 42, -1.5, 10n ** 20n, true, false, null, bytes, { sql: 'CURRENT_TIMESTAMP' }], literal))
      .toBe("INSERT INTO t VALUES ('it''s', 42, -1.5, 100000000000000000000, 1, 0, NULL, X'dead01', (CURRENT_TIMESTAMP))")
  })

  it('keeps ? in literals, identifiers and comments', () => {
    expect(inlineParams(`UPDATE "t?" SET a = ? /* ? */ WHERE b = '?' -- ?\nAND c = ?`, ['x', 2], literal))
      .toBe(`UPDATE "t?" SET a = 'x' /* ? */ WHERE b = '?' -- ?\nAND c = 2`)
  })

  it('refuses (undefined) when placeholders and values do not match', () => {
    expect(inlineParams('SELECT ?, ?', [1], literal)).toBeUndefined()
    expect(inlineParams('SELECT ?', [1, 2], literal)).toBeUndefined()
    expect(inlineParams("SELECT '?'", [1], literal)).toBeUndefined()
    expect(inlineParams('SELECT ?1', [1], literal)).toBeUndefined()
    expect(inlineParams('SELECT 1', [], literal)).toBe('SELECT 1')
  })

  it('lets a value SQL cannot write throw', () => {
    expect(() => inlineParams('SELECT ?', [Number.NaN], literal)).toThrow(/cannot be written/)
  })
})

describe('SQLite op.execute with { sql } values', () => {
  it('writes expressions in place of their placeholders and binds the rest', () => {
    expect(executeStatement({ kind: 'execute', sql: 'INSERT INTO t (a, b, c) VALUES (?, ?, ?)', params: [1, { sql: "upper('x')" }, '?'] }))
      .toEqual({ sql: "INSERT INTO t (a, b, c) VALUES (?, (upper('x')), ?)", params: [1, '?'] })
    expect(executeStatement({ kind: 'execute', sql: "SELECT '?', ? -- ?", params: [{ sql: 'now()' }] }))
      .toEqual({ sql: "SELECT '?', (now()) -- ?", params: [] })
  })

  it('passes statements without expressions through unchanged', () => {
    const op = { kind: 'execute' as const, sql: 'SELECT ?, ?', params: [1] }
    expect(executeStatement(op)).toEqual({ sql: 'SELECT ?, ?', params: [1] })
  })

  it('refuses an expression when the placeholders do not match the values', () => {
    expect(() => executeStatement({ kind: 'execute', sql: 'SELECT ?', params: [{ sql: '1' }, 2] })).toThrow(/1 `\?` placeholder\(s\) for 2 value\(s\)/)
    expect(() => executeStatement({ kind: 'execute', sql: 'SELECT ?1', params: [{ sql: '1' }] })).toThrow(/numbered/)
  })
})

describe('plan --sql statements', () => {
  it('print values inline, negative numbers in parentheses', () => {
    expect(renderStatement({ sql: 'UPDATE t SET a = a -?, b = ? WHERE c = ?', params: [-1, 'x', 2n] }))
      .toBe("UPDATE t SET a = a -(-1), b = 'x' WHERE c = 2;")
  })

  it('keep the ? form with the values in a comment when they cannot be inlined', () => {
    expect(renderStatement({ sql: 'SELECT ?, ?', params: [1] })).toBe('SELECT ?, ?; -- params: [1]')
    expect(renderStatement({ sql: 'SELECT ?', params: [Number.NaN] })).toBe('SELECT ?; -- params: [null]')
    expect(renderStatement({ sql: 'SELECT ?', params: ['a\0b'] })).toBe('SELECT ?; -- params: ["a\\u0000b"]')
    expect(renderStatement({ sql: 'SELECT ?1', params: [new Uint8Array([1])] })).toBe("SELECT ?1; -- params: [\"x'01'\"]")
  })

  it('keep the ; out of a comment the statement ends in', () => {
    expect(renderStatement({ sql: '  SELECT 1 -- why\n', params: [] })).toBe('SELECT 1 -- why\n;')
    expect(renderStatement({ sql: 'SELECT 1 /* open', params: [] })).toBe('SELECT 1 /* open */;')
    expect(renderStatement({ sql: "SELECT '--'", params: [] })).toBe("SELECT '--';")
  })
})
