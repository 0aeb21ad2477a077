import { describe, expect, it } from 'vitest'
import { StrataError } from '../../src/errors/index.js'
import {
  CHECKSUM_VERSION,
  checksum,
  checksumFor,
  normaliseText,
} from '../../src/loader/checksum.js'

// Expected digests computed independently, e.g.
//   printf 'CREATE TABLE a (x INT);\nSELECT 1;\n-- end\n' | sha256sum
const KNOWN = 'dfea1315842fc56d3f8165c1ff350ab6da29fc6acebd016b0f544c0d18c3d365'
const KNOWN_PAIR = '72609b72368469f7839bd5d515435b86391f37b36cb7c538f3e92e73ea6bf616' // up '\0' down
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

describe('normaliseText', () => {
  it('turns CRLF and lone CR into LF and strips trailing spaces and tabs', () => {
    expect(normaliseText('CREATE TABLE a (x INT);  \r\nSELECT 1;\t\r-- end \n')).toBe(
      'CREATE TABLE a (x INT);\nSELECT 1;\n-- end\n',
    )
  })

  it('changes nothing else', () => {
    const text = '\uFEFF  leading kept\n\n\n\tindent kept\nno final newline'
    expect(normaliseText(text)).toBe(text)
    expect(normaliseText('a \u00a0\n')).toBe('a \u00a0\n') // only spaces and tabs count
    expect(normaliseText('')).toBe('')
  })

  it('is linear on long runs of spaces', () => {
    const started = performance.now()
    normaliseText(`${' '.repeat(2_000_000)}x\n`)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

describe('checksum', () => {
  it('is the sha256 of the normalised text', () => {
    expect(checksum('CREATE TABLE a (x INT);  \r\nSELECT 1;\t\r-- end \n')).toBe(KNOWN)
    expect(checksum('CREATE TABLE a (x INT);\nSELECT 1;\n-- end\n')).toBe(KNOWN)
    expect(checksum('')).toBe(EMPTY)
  })

  it('is lowercase hex', () => {
    expect(checksum('x')).toMatch(/^[0-9a-f]{64}$/)
  })

  it('ignores line endings and trailing whitespace', () => {
    expect(checksum('a\r\nb\r\n')).toBe(checksum('a\nb\n'))
    expect(checksum('a \t\nb  ')).toBe(checksum('a\nb'))
  })

  it('changes when a character changes, or when indentation or blank lines change', () => {
    const base = checksum('SELECT 1;\n')
    expect(checksum('SELECT 2;\n')).not.toBe(base)
    expect(checksum(' SELECT 1;\n')).not.toBe(base)
    expect(checksum('SELECT 1;\n\n')).not.toBe(base)
  })

  it('hashes a pair as up, NUL, down, each normalised', () => {
    expect(checksum(['CREATE TABLE a (x INT); \r\n', 'DROP TABLE a;\t\n'])).toBe(KNOWN_PAIR)
  })

  it('changes when text moves from one file of a pair to the other', () => {
    const moved = checksum(['CREATE TABLE a (x INT);\nDROP TABLE a;\n', ''])
    expect(moved).not.toBe(checksum(['CREATE TABLE a (x INT);\n', 'DROP TABLE a;\n']))
    expect(checksum(['a', 'b'])).not.toBe(checksum(['ab', '']))
  })

  it('hashes a single-element list like the text itself', () => {
    expect(checksum(['SELECT 1;'])).toBe(checksum('SELECT 1;'))
  })
})

describe('checksumFor', () => {
  it('uses rule 1 for version 1, the current version', () => {
    expect(CHECKSUM_VERSION).toBe(1)
    expect(checksumFor(1, 'CREATE TABLE a (x INT);\r\nSELECT 1;\r\n-- end\r\n')).toBe(KNOWN)
    expect(checksumFor(CHECKSUM_VERSION, ['a', 'b'])).toBe(checksum(['a', 'b']))
  })

  it('refuses a version it does not know', () => {
    let caught: unknown
    try {
      checksumFor(2, 'x')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(StrataError)
    const error = caught as StrataError
    expect(error.code).toBe('E_CHECKSUM')
    expect(error.message).toMatchInlineSnapshot(
      `"checksum version 2 is unknown to this strata (it knows versions 1 to 1)"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"the history was written by a newer strata: upgrade strata-migrate"`,
    )
  })
})
