import { createReadStream } from 'node:fs'
import { StrataError } from '../../errors/index.js'
import type { RowCounts } from '../engine.js'

/** What a dump holds, read from its text. */
export interface DumpFacts {
  /** Rows of each table the dump creates, as the INSERT statements it would run hold them. */
  readonly rowCounts: RowCounts
  /** The dump ends with mysqldump's `-- Dump completed` line: it was written to the end. */
  readonly completed: boolean
}

/** Where the scanner is, lexically. */
const CODE = 0
const SINGLE_QUOTED = 1
const DOUBLE_QUOTED = 2
const BACKQUOTED = 3
/** After a backquote inside a backquoted name: a second one is a literal backquote. */
const BACKQUOTE_END = 4
const LINE_COMMENT = 5
const BLOCK_COMMENT = 6
/** The argument of the client's `DELIMITER` command, up to the end of its line. */
const DELIMITER_LINE = 7

/** What the current statement is, as far as counting rows goes. */
type StatementKind = 'none' | 'head' | 'insert-table' | 'insert-columns' | 'insert-rows' | 'create-table' | 'other'

/** Statement beginnings the scanner looks for; mysqldump writes them exactly so. */
const INSERT_HEAD = 'INSERT INTO `'
const CREATE_HEAD = 'CREATE TABLE `'
const DELIMITER_HEAD = 'DELIMITER '
const HEADS = [INSERT_HEAD, CREATE_HEAD, DELIMITER_HEAD]
const HEAD_LENGTH = Math.max(...HEADS.map((head) => head.length))

const BACKSLASH = 0x5c
const NEWLINE = 0x0a

/** Bytes of row data that neither quote, nor nest, nor end, nor start a comment: letters, digits, `,` `.` `+` `_`. */
const PLAIN = new Uint8Array(256)
for (const byte of Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,.+_')) PLAIN[byte] = 1

/**
 * Counts the rows of a mysqldump file as the mysql client would load them, reading it in chunks
 * of any size (a row of a large blob is one long line). It splits the text into statements the
 * way the client does (quotes with backslash escapes, doubled backquotes, `--`/`#`/`/* *\/`
 * comments, the `DELIMITER` command), so a routine or trigger body that contains
 * `INSERT INTO … VALUES (…)` under `DELIMITER ;;` is not mistaken for data. Each statement that
 * begins `INSERT INTO \`t\`` adds the tuples its VALUES list holds: the parentheses opened at
 * depth 0 outside strings; `CREATE TABLE \`t\`` makes an empty table count as 0. Only
 * statements that end (their delimiter read) count, since the client runs nothing else. The
 * dump is utf8mb4 (`--default-character-set`) and binary values are hex (`--hex-blob`), so no
 * byte of a multi-byte character is mistaken for a quote or a parenthesis.
 */
export class DumpScanner {
  #mode = CODE
  #escaped = false
  /** The two code bytes before the current one, for `--` and `/*`. */
  #prev1 = 0
  #prev2 = 0
  #delimiter: Buffer = Buffer.from(';')
  #delimiterMatched = 0
  #statement: StatementKind = 'none'
  #head = ''
  #name: number[] = []
  #word = ''
  #table = ''
  #depth = 0
  #rows = 0
  #comment = ''
  #commentAtStart = false
  #delimiterText: number[] = []
  #completed = false
  readonly #counts = new Map<string, number>()

  push(chunk: Uint8Array): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#mode === SINGLE_QUOTED || this.#mode === DOUBLE_QUOTED) i = this.#skipQuoted(chunk, i)
      else if (this.#mode === CODE && this.#statement === 'insert-rows' && PLAIN[chunk[i]!] === 1) i = this.#skipPlain(chunk, i)
      else this.#byte(chunk[i++]!)
    }
  }

  finish(): DumpFacts {
    // A last line without its newline still counts.
    if (this.#mode === LINE_COMMENT) this.#commentEnded()
    return { rowCounts: Object.fromEntries(this.#counts), completed: this.#completed && this.#statement === 'none' }
  }

  /** The bulk of a dump is string contents: a tight loop to the closing quote. */
  #skipQuoted(chunk: Uint8Array, from: number): number {
    const quote = this.#mode === SINGLE_QUOTED ? 0x27 : 0x22
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i]!
      if (this.#escaped) this.#escaped = false
      else if (byte === BACKSLASH) this.#escaped = true
      else if (byte === quote) {
        this.#mode = CODE
        return i + 1
      }
    }
    return chunk.length
  }

  /** Numbers, hex blobs, NULLs and commas between the rows' parentheses change nothing. */
  #skipPlain(chunk: Uint8Array, from: number): number {
    let i = from
    while (i < chunk.length && PLAIN[chunk[i]!] === 1) i++
    this.#prev1 = this.#prev2 = 0
    this.#delimiterMatched = 0
    return i
  }

  #byte(byte: number): void {
    switch (this.#mode) {
      case BACKQUOTED:
        if (byte === 0x60) this.#mode = BACKQUOTE_END
        else if (this.#collectsName()) this.#name.push(byte)
        return
      case BACKQUOTE_END:
        if (byte === 0x60) {
          if (this.#collectsName()) this.#name.push(byte)
          this.#mode = BACKQUOTED
          return
        }
        this.#mode = CODE
        this.#nameEnded()
        break
      case LINE_COMMENT:
        if (byte === NEWLINE) this.#commentEnded()
        else if (this.#comment.length < 32) this.#comment += String.fromCharCode(byte)
        return
      case BLOCK_COMMENT:
        if (this.#prev1 === 0x2a && byte === 0x2f) this.#toCode()
        else this.#prev1 = byte
        return
      case DELIMITER_LINE:
        if (byte === NEWLINE) this.#delimiterEnded()
        else this.#delimiterText.push(byte)
        return
    }
    this.#code(byte)
  }

  /** A byte outside quotes and comments. */
  #code(byte: number): void {
    if (this.#opensComment(byte)) return
    this.#statementByte(byte)
    if (this.#mode !== CODE) return
    if (byte === 0x27) this.#mode = SINGLE_QUOTED
    else if (byte === 0x22) this.#mode = DOUBLE_QUOTED
    else if (byte === 0x60) this.#mode = BACKQUOTED
    if (this.#mode !== CODE) {
      this.#prev1 = this.#prev2 = 0
      this.#delimiterMatched = 0
      return
    }
    this.#matchDelimiter(byte)
    this.#prev2 = this.#prev1
    this.#prev1 = byte
  }

  /** `-- ` (two dashes and a blank, as MySQL requires), `#` and `/*` start comments. */
  #opensComment(byte: number): boolean {
    if (byte <= 0x20 && this.#prev1 === 0x2d && this.#prev2 === 0x2d) {
      this.#startLineComment()
      if (byte === NEWLINE) this.#commentEnded()
      return true
    }
    if (byte === 0x23) {
      this.#startLineComment()
      return true
    }
    if (byte === 0x2a && this.#prev1 === 0x2f) {
      this.#mode = BLOCK_COMMENT
      this.#prev1 = 0
      return true
    }
    return false
  }

  #startLineComment(): void {
    this.#mode = LINE_COMMENT
    this.#comment = ''
    this.#commentAtStart = this.#statement === 'none'
  }

  #commentEnded(): void {
    // With --skip-dump-date the line is `-- Dump completed`; with a date, `-- Dump completed on …`.
    if (this.#commentAtStart && this.#comment.trimStart().startsWith('Dump completed')) this.#completed = true
    this.#toCode()
  }

  #toCode(): void {
    this.#mode = CODE
    this.#prev1 = this.#prev2 = 0
  }

  #matchDelimiter(byte: number): void {
    if (byte === this.#delimiter[this.#delimiterMatched]) this.#delimiterMatched++
    else this.#delimiterMatched = byte === this.#delimiter[0] ? 1 : 0
    if (this.#delimiterMatched === this.#delimiter.length) {
      this.#delimiterMatched = 0
      this.#statementEnded()
    }
  }

  #statementByte(byte: number): void {
    switch (this.#statement) {
      case 'none':
        // Blanks, comment starts and empty statements come between statements.
        if (byte <= 0x20 || byte === 0x2d || byte === 0x2f || byte === this.#delimiter[0]) return
        this.#completed = false
        this.#statement = 'head'
        this.#head = ''
        this.#headByte(byte)
        return
      case 'head':
        this.#headByte(byte)
        return
      case 'insert-columns':
        if (!this.#valuesKeyword(byte)) return
        this.#statement = 'insert-rows'
        this.#depth = 0
        // The byte after VALUES may already open the first row: count it below.
        this.#rowByte(byte)
        return
      case 'insert-rows':
        this.#rowByte(byte)
        return
    }
  }

  #headByte(byte: number): void {
    this.#head += String.fromCharCode(byte).toUpperCase()
    if (this.#head === INSERT_HEAD || this.#head === CREATE_HEAD) {
      this.#statement = this.#head === INSERT_HEAD ? 'insert-table' : 'create-table'
      this.#name = []
    } else if (this.#head === DELIMITER_HEAD) {
      this.#mode = DELIMITER_LINE
      this.#delimiterText = []
    } else if (this.#head.length >= HEAD_LENGTH || !HEADS.some((head) => head.startsWith(this.#head))) {
      this.#statement = 'other'
    }
  }

  /** Only the table name after INSERT INTO or CREATE TABLE is kept; other names are skipped. */
  #collectsName(): boolean {
    return this.#statement === 'insert-table' || this.#statement === 'create-table'
  }

  #nameEnded(): void {
    const name = Buffer.from(this.#name).toString('utf8')
    if (this.#statement === 'create-table') {
      if (!this.#counts.has(name)) this.#counts.set(name, 0)
      this.#statement = 'other'
    } else if (this.#statement === 'insert-table') {
      this.#table = name
      this.#rows = 0
      this.#word = ''
      this.#statement = 'insert-columns'
    }
  }

  /** True on the byte that ends the keyword VALUES outside quotes (the column list's names are backquoted). */
  #valuesKeyword(byte: number): boolean {
    const isWordByte = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x5f
    if (isWordByte) {
      // A word longer than VALUES can never become it again: `*` marks one.
      this.#word = this.#word.length >= 6 ? '*' : this.#word + String.fromCharCode(byte).toUpperCase()
      return false
    }
    const word = this.#word
    this.#word = ''
    return word === 'VALUES'
  }

  #rowByte(byte: number): void {
    if (byte === 0x28) {
      if (this.#depth === 0) this.#rows++
      this.#depth++
    } else if (byte === 0x29) {
      this.#depth--
    }
  }

  #statementEnded(): void {
    if (this.#statement === 'insert-rows') this.#counts.set(this.#table, (this.#counts.get(this.#table) ?? 0) + this.#rows)
    this.#statement = 'none'
  }

  /** The client's DELIMITER command ends at its line's end, not at a delimiter. */
  #delimiterEnded(): void {
    const text = Buffer.from(this.#delimiterText).toString('utf8').trim()
    if (text !== '') this.#delimiter = Buffer.from(text, 'utf8')
    this.#delimiterMatched = 0
    this.#statement = 'none'
    this.#toCode()
  }
}

/** Scans a dump file in chunks (a dump can be far larger than memory). */
export async function scanDumpFile(file: string): Promise<DumpFacts> {
  const scanner = new DumpScanner()
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) scanner.push(chunk as Buffer)
  } catch (error) {
    throw new StrataError('E_BACKUP', `cannot read the dump ${file}: ${(error as Error).message}`, { file }, { cause: error })
  }
  return scanner.finish()
}
