import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Connection, DatabaseUrl } from '../../dialects/dialect.js'
import { openMysql } from '../../dialects/mysql/mysql-driver.js'
import { StrataError } from '../../errors/index.js'
import type { BackupEngine, CopyFacts, RowCounts } from '../engine.js'
import { findProgram, missingProgram, runProgram } from '../programs.js'

/**
 * MySQL and MariaDB backups (SPEC S5) with the client programs: `mysqldump` (or `mariadb-dump`)
 * writes a plain SQL file, `mysql` (or `mariadb`) loads it back. The scope is the URL's
 * database, every base table in it (strata's own `strata_*` tables too), keyed by table name.
 *
 * The client programs always run with `--no-defaults` as their first argument: an option file
 * (`~/.my.cnf`, `/etc/mysql/my.cnf`) could otherwise send them to another host, user or
 * database than the URL names, or change the dump's format (`skip-comments` drops the
 * `-- Dump completed` line a complete dump is recognised by; `compact`, `skip-extended-insert`…).
 * Everything they need comes from the URL: host and port (or `?socketPath=`), user, the
 * password through `MYSQL_PWD` (never an argument, SPEC S16), and TLS from mysql2's `?ssl=`
 * parameter. Settings kept only in an option file must be put in the URL.
 *
 * Events are not dumped (`--events` is left off): a scheduled event loaded into a scratch
 * database fires there on its own, at once when its start time has passed, and may write to
 * other databases; a verify must have no side effects. `restore` leaves the live database's
 * events as they are.
 */

export interface MysqlBackupOptions {
  /** How long `restore`'s table swap waits for other sessions' metadata locks before giving up, leaving the database unchanged (default 60 s). */
  readonly lockTimeoutMs?: number
  /**
   * Names the scratch databases (default `strata_verify_<hex>` for `inspect`, `strata_restore_<hex>`
   * and `strata_trash_<hex>` for `restore`); tests choose their own to find them.
   */
  readonly scratchName?: (purpose: 'verify' | 'restore' | 'trash') => string
}

/** mysqldump's options; `--comments` (its default) is named because the completeness check reads them. */
const DUMP_OPTIONS = [
  '--single-transaction', '--routines', '--triggers', '--skip-events', '--hex-blob', '--skip-dump-date', '--comments',
  '--default-character-set=utf8mb4', '--max-allowed-packet=1073741824',
]

/**
 * The client's options to load a dump: `--comments` because the client otherwise strips comments
 * from what it sends, routine and trigger bodies included; the largest packet it can send, for
 * rows near 1 GiB.
 */
const LOAD_OPTIONS = ['--comments', '--default-character-set=utf8mb4', '--max-allowed-packet=1073741824']

const DUMP_PROGRAMS: readonly string[] = ['mysqldump', 'mariadb-dump']
const CLIENT_PROGRAMS: readonly string[] = ['mysql', 'mariadb']

/** Table types that hold rows and are counted: MariaDB reports system-versioned tables apart. */
const COUNTED_TYPES = `TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`
/** Table types that `restore` moves with RENAME TABLE: the counted ones and MariaDB's sequences. */
const MOVED_TYPES = `TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')`

/** A text dump is larger than the tables' pages for binary data: `--hex-blob` writes each byte as two characters. */
const SIZE_FACTOR = 2
/** The dump's header, DDL and routines, for a database with little data. */
const SIZE_OVERHEAD = 1 << 20

export function createMysqlBackup(options: MysqlBackupOptions = {}): BackupEngine {
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000
  const scratchName = options.scratchName ?? ((purpose) => `strata_${purpose}_${randomBytes(8).toString('hex')}`)
  return {
    extension: '.sql',
    format: 'mysqldump-sql',
    programs: [DUMP_PROGRAMS, CLIENT_PROGRAMS],
    estimateSize: (url) => withSession(url, (conn) => estimateSize(conn, databaseOf(url))),
    create: (url, file) => createCopy(url, file),
    inspect: (url, file) => inspectCopy(url, file, scratchName('verify')),
    restore: (url, file) => restoreCopy(url, file, { scratch: scratchName('restore'), trash: scratchName('trash'), lockTimeoutMs }),
    live: (url) => withSession(url, (conn) => liveFacts(conn, databaseOf(url))),
  }
}

export const mysqlBackup: BackupEngine = createMysqlBackup()

// ——— the client programs ———

type Flavour = 'mariadb' | 'mysql'

/** How a client program reaches the URL's server. */
interface ClientTarget {
  /** `--no-defaults` first (it must be), then host, user and TLS options. */
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  readonly flavour: Flavour
  /** Removes the certificate files the TLS options point to. */
  dispose(): Promise<void>
}

/** The URL's database: the scope of every backup. */
function databaseOf(url: DatabaseUrl): string {
  const database = decodeURIComponent(parsedUrl(url).pathname.replace(/^\//, ''))
  if (database === '') {
    throw new StrataError('E_CONFIG', `the MySQL URL ${url.redacted} names no database`, { hint: 'name the database in the URL: mysql://user@host:3306/DATABASE' })
  }
  return database
}

function parsedUrl(url: DatabaseUrl): URL {
  return new URL(url.raw.replace(/^mariadb:/i, 'mysql:'))
}

async function clientTarget(url: DatabaseUrl, program: string): Promise<ClientTarget> {
  const parsed = parsedUrl(url)
  const flavour = await flavourOf(program)
  const user = decodeURIComponent(parsed.username)
  const tls = await tlsOptions(parsed.searchParams.get('ssl'), flavour)
  return {
    args: ['--no-defaults', ...endpointArgs(parsed), ...(user ? [`--user=${user}`] : []), ...tls.args],
    // Set even when empty, so a MYSQL_PWD inherited from strata's own environment is not used.
    env: { MYSQL_PWD: decodeURIComponent(parsed.password) },
    flavour,
    dispose: tls.dispose,
  }
}

/** TCP to the URL's host, as mysql2 connects (the clients would take `localhost` for the Unix socket); mysql2's `?socketPath=` for a socket. */
function endpointArgs(parsed: URL): string[] {
  const socket = parsed.searchParams.get('socketPath')
  if (socket) return ['--protocol=SOCKET', `--socket=${socket}`]
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost'
  return ['--protocol=TCP', `--host=${host}`, `--port=${parsed.port || '3306'}`]
}

const flavours = new Map<string, Promise<Flavour>>()

/** MariaDB's and Oracle's clients spell TLS options differently; `--version` tells them apart. */
function flavourOf(program: string): Promise<Flavour> {
  let flavour = flavours.get(program)
  if (!flavour) {
    flavour = runProgram(program, ['--version']).then(({ stdout }) => (/mariadb/i.test(stdout) ? 'mariadb' : 'mysql'))
    flavour.catch(() => flavours.delete(program))
    flavours.set(program, flavour)
  }
  return flavour
}

/** mysql2's `ssl` option as the URL carries it: a JSON object, or the name of a bundled profile. */
interface SslSettings {
  readonly ca?: string | readonly string[]
  readonly cert?: string
  readonly key?: string
  readonly rejectUnauthorized?: boolean
}

/**
 * The clients' TLS options for mysql2's `?ssl=` value. mysql2 verifies the server's certificate
 * unless `rejectUnauthorized` is false, and so do the clients here. Its PEM contents (`ca`,
 * `cert`, `key`) go to files in a private temporary folder, since the clients read files. A
 * profile name (`?ssl=Amazon RDS`) means verified TLS against the system's CAs. MariaDB's
 * client cannot require TLS without verifying the certificate: with `rejectUnauthorized: false`
 * it encrypts when the server offers TLS.
 */
async function tlsOptions(value: string | null, flavour: Flavour): Promise<{ args: string[]; dispose(): Promise<void> }> {
  if (value === null) return { args: [], dispose: async () => {} }
  const ssl = parseSsl(value)
  const verify = ssl.rejectUnauthorized !== false
  // Oracle's client verifies only against a CA it is given: without `ca` in the URL it refuses to connect.
  const args = flavour === 'mariadb' ? ['--ssl', verify ? '--ssl-verify-server-cert' : '--skip-ssl-verify-server-cert'] : [`--ssl-mode=${verify ? 'VERIFY_IDENTITY' : 'REQUIRED'}`]
  const pems = Object.entries({ ca: ssl.ca, cert: ssl.cert, key: ssl.key }).filter((entry): entry is [string, string | readonly string[]] => entry[1] !== undefined)
  if (pems.length === 0) return { args, dispose: async () => {} }
  const dir = await mkdtemp(join(tmpdir(), 'strata-tls-'))
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true })
  try {
    for (const [name, pem] of pems) {
      const path = join(dir, `${name}.pem`)
      await writeFile(path, typeof pem === 'string' ? pem : pem.join('\n'), { mode: 0o600 })
      args.push(`--ssl-${name}=${path}`)
    }
  } catch (error) {
    await dispose()
    throw error
  }
  return { args, dispose }
}

function parseSsl(value: string): SslSettings {
  try {
    const parsed: unknown = JSON.parse(value)
    if (parsed !== null && typeof parsed === 'object') return parsed as SslSettings
  } catch {
    // Not JSON: the name of one of mysql2's profiles.
  }
  return {}
}

/** Runs `fn` with a client program's target, removing its certificate files afterwards. */
async function withClient<T>(url: DatabaseUrl, candidates: readonly string[], fn: (program: string, target: ClientTarget) => Promise<T>): Promise<T> {
  const program = await findProgram(candidates)
  const target = await clientTarget(url, program)
  try {
    return await fn(program, target)
  } finally {
    await target.dispose()
  }
}

// ——— create ———

/**
 * Dumps the database in one transaction (`--single-transaction`: a consistent InnoDB snapshot
 * without locking writers) and reads the row counts from the dump itself: counting the live
 * tables separately could see rows committed after the dump's snapshot.
 */
async function createCopy(url: DatabaseUrl, file: string): Promise<CopyFacts> {
  const database = databaseOf(url)
  await withClient(url, DUMP_PROGRAMS, (program, target) => dumpTo(program, target, database, file))
  const dump = await scanDumpFile(file)
  if (!dump.completed) {
    // mysqldump exited 0 yet its output stops short: a copy that cannot be trusted is not kept.
    await unlink(file).catch(() => {})
    throw incompleteDump(file)
  }
  return { rowCounts: dump.rowCounts, integrity: 'ok' }
}

/** Writes the dump to `file`, created here with mode 0600 (SPEC S16); removed again when mysqldump fails. */
async function dumpTo(program: string, target: ClientTarget, database: string, file: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600)
  try {
    // The umask could have taken bits from the mode given to open; 0600 must hold whatever it is.
    await handle.chmod(0o600)
    await runProgram(program, [...target.args, ...dumpOptions(target.flavour), '--', database], { env: target.env, stdoutFd: handle.fd })
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => {})
    await unlink(file).catch(() => {})
    throw error
  }
  await handle.close()
}

/**
 * Oracle's mysqldump would otherwise write `SET @@GLOBAL.GTID_PURGED` on a server with GTIDs,
 * which cannot be loaded back into the same server (nor into a scratch database on it).
 */
function dumpOptions(flavour: Flavour): string[] {
  return flavour === 'mysql' ? [...DUMP_OPTIONS, '--set-gtid-purged=OFF'] : DUMP_OPTIONS
}

function incompleteDump(file: string): StrataError {
  return new StrataError('E_BACKUP', `the dump ${file} is incomplete: it does not end with mysqldump's \`-- Dump completed\` line (truncated or damaged)`, {
    file,
    hint: 'use another backup, or take a new one with `strata backup create`',
  })
}

// ——— the dump scanner ———

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

// ——— inspect ———

/**
 * Loads the dump into a scratch database, dropped afterwards whatever happens: its tables'
 * CHECK TABLE results and row counts are the copy's facts. Row counts that differ from the
 * dump's own INSERT statements are reported in `integrity` too.
 */
async function inspectCopy(url: DatabaseUrl, file: string, scratch: string): Promise<CopyFacts> {
  const dump = await scanDumpFile(file)
  if (!dump.completed) throw incompleteDump(file)
  return withSession(url, (conn) =>
    withScratch(conn, scratch, async () => {
      await loadDump(url, scratch, file)
      const rowCounts = await countRows(conn, scratch)
      const problems = [...(await checkTables(conn, scratch)), ...countDifferences(dump.rowCounts, rowCounts)]
      return { rowCounts, integrity: problems.length === 0 ? 'ok' : problems.slice(0, 20).join('\n') }
    }),
  )
}

/** Creates `database`, runs `fn`, drops it again (also when `fn` fails). */
async function withScratch<T>(conn: Connection, database: string, fn: () => Promise<T>): Promise<T> {
  await exec(conn, `CREATE DATABASE ${quote(database)} CHARACTER SET utf8mb4`)
  try {
    return await fn()
  } finally {
    await dropDatabase(conn, database)
  }
}

/** Drops a scratch database; foreign keys from tables elsewhere must not keep it. */
async function dropDatabase(conn: Connection, database: string): Promise<void> {
  await exec(conn, 'SET SESSION foreign_key_checks = 0')
  await exec(conn, `DROP DATABASE IF EXISTS ${quote(database)}`)
}

/** `mysql DATABASE < file`: the client reads the file itself, however large, from its stdin. */
async function loadDump(url: DatabaseUrl, database: string, file: string): Promise<void> {
  await withClient(url, CLIENT_PROGRAMS, async (program, target) => {
    const handle = await open(file, 'r')
    try {
      await runWithStdin(program, [...target.args, ...LOAD_OPTIONS, '--', database], target.env, handle.fd)
    } catch (error) {
      // A missing program stays as findProgram words it; a failed load names the dump.
      if (error instanceof StrataError) throw error
      throw new StrataError('E_BACKUP', `cannot load the dump ${file} into the scratch database ${database}: ${(error as Error).message}`, {
        file,
        hint: 'the dump is damaged or was written for another server; use another backup, or take a new one with `strata backup create`',
      }, { cause: error })
    } finally {
      await handle.close()
    }
  })
}

/**
 * Runs a program with a file descriptor as its stdin (runProgram takes stdin as a string or a
 * Buffer, which would hold a whole dump in memory). A missing program is findProgram's E_BACKUP;
 * a failure is a plain Error with stderr's tail, which the caller words for its dump.
 */
function runWithStdin(program: string, args: readonly string[], env: NodeJS.ProcessEnv, stdinFd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: [stdinFd, 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8000)
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingProgram(program) : new StrataError('E_BACKUP', `cannot run ${program}: ${error.message}`, {}, { cause: error }))
    })
    child.on('close', (code, signal) => {
      if (code === 0) return resolve()
      const reason = signal ? `was killed by ${signal}` : `exited with status ${code}`
      reject(new Error(`${program} ${reason}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-6).join('\n')}` : ''}`))
    })
  })
}

/** CHECK TABLE's failures: errors, and statuses other than OK (notes such as "doesn't support check" are not failures). */
async function checkTables(conn: Connection, database: string): Promise<string[]> {
  const problems: string[] = []
  for (const table of await tableNames(conn, database, COUNTED_TYPES)) {
    const rows = await conn.query<{ Msg_type: string; Msg_text: string }>({ sql: `CHECK TABLE ${quote(database)}.${quote(table)}`, params: [] })
    for (const row of rows) {
      const type = String(row.Msg_type).toLowerCase()
      if (type === 'error' || (type === 'status' && String(row.Msg_text) !== 'OK')) problems.push(`${table}: ${row.Msg_text}`)
    }
  }
  return problems
}

function countDifferences(expected: RowCounts, actual: RowCounts): string[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
  return tables
    .filter((table) => expected[table] !== actual[table])
    .map((table) => `${table}: the dump holds ${expected[table] ?? 'no'} rows, ${actual[table] ?? 'no table with'} loaded`)
}

// ——— restore ———

/** One object that RENAME TABLE does not carry: recreated from its definition. */
interface Definition {
  readonly kind: 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION'
  readonly name: string
  readonly sql: string
  /** The sql_mode it was created under (triggers and routines keep it; it changes their meaning). */
  readonly sqlMode: string | null
}

interface RestorePlan {
  readonly scratch: string
  readonly trash: string
  readonly lockTimeoutMs: number
}

/**
 * Replaces the live database's contents with the dump's. MySQL commits DDL implicitly, so the
 * atomic step is one `RENAME TABLE` statement, which MySQL and MariaDB apply all or nothing
 * while holding every table's lock (no session sees a state in between):
 *
 * 1. the dump is loaded into the scratch database and its row counts are checked against the
 *    dump's INSERT statements; the definitions of its views, triggers and routines are kept,
 *    and its triggers dropped (RENAME TABLE cannot move a table with triggers to another
 *    database). Any failure so far leaves the live database untouched.
 * 2. the live database's triggers and views are dropped (views cannot move between databases,
 *    and one could have the name of a restored table); then ONE `RENAME TABLE` moves every live
 *    table into the trash database and every restored table into the live one. Should it fail
 *    (a lock wait timeout, say), the dropped triggers and views are recreated and the live
 *    database is as it was.
 * 3. right after: the live routines are replaced by the dump's, and the dump's views and
 *    triggers are created in the live database; the trash and scratch databases are dropped.
 *
 * So tables and their rows change atomically; views, triggers and routines follow a moment
 * later, and for that moment (and the one between dropping the live triggers and the rename)
 * writes by other sessions fire no triggers. The caller holds the migration lock, which does
 * not stop the application's sessions. Foreign keys move with their tables (InnoDB follows a
 * rename); checks are off in the session that renames and drops, so a foreign key from another
 * database into this one does not block the swap, and is left pointing at the dropped table.
 * Should step 3 fail, the previous tables are kept in the trash database, named in the error.
 * Events are not part of a dump and stay as they are.
 */
async function restoreCopy(url: DatabaseUrl, file: string, plan: RestorePlan): Promise<void> {
  const live = databaseOf(url)
  const dump = await scanDumpFile(file)
  if (!dump.completed) throw incompleteDump(file)
  await withSession(url, async (conn) => {
    await exec(conn, 'SET SESSION foreign_key_checks = 0')
    await conn.execute({ sql: 'SET SESSION lock_wait_timeout = ?', params: [Math.max(1, Math.ceil(plan.lockTimeoutMs / 1000))] })
    try {
      const restored = await prepareScratch(conn, url, file, plan.scratch, dump.rowCounts)
      await swapIn(conn, live, plan)
      await finishRestore(conn, live, restored, plan.trash)
    } finally {
      await dropDatabase(conn, plan.scratch)
    }
  })
}

/** Step 1: the dump in the scratch database, its counts verified, its non-table definitions taken out. */
async function prepareScratch(conn: Connection, url: DatabaseUrl, file: string, scratch: string, expected: RowCounts): Promise<Definition[]> {
  await exec(conn, `CREATE DATABASE ${quote(scratch)} CHARACTER SET utf8mb4`)
  await loadDump(url, scratch, file)
  const differences = countDifferences(expected, await countRows(conn, scratch))
  if (differences.length > 0) {
    throw new StrataError('E_BACKUP', `the dump ${file} did not load as it should; the live database is unchanged: ${differences.slice(0, 10).join('; ')}`, {
      file,
      hint: 'verify the backup with `strata backup verify`, or use another one',
    })
  }
  const definitions = await captureDefinitions(conn, scratch)
  await dropDefinitions(conn, scratch, definitions.filter((definition) => definition.kind === 'TRIGGER'))
  return definitions
}

/** Step 2: the live triggers and views out of the way, then the one atomic RENAME TABLE. */
async function swapIn(conn: Connection, live: string, plan: RestorePlan): Promise<void> {
  const previous = (await captureDefinitions(conn, live)).filter((definition) => definition.kind === 'VIEW' || definition.kind === 'TRIGGER')
  const moves = [
    ...(await tableNames(conn, live, MOVED_TYPES)).map((table) => `${quote(live)}.${quote(table)} TO ${quote(plan.trash)}.${quote(table)}`),
    ...(await tableNames(conn, plan.scratch, MOVED_TYPES)).map((table) => `${quote(plan.scratch)}.${quote(table)} TO ${quote(live)}.${quote(table)}`),
  ]
  await exec(conn, `CREATE DATABASE ${quote(plan.trash)}`)
  const dropped: Definition[] = []
  try {
    for (const definition of previous) {
      await dropDefinitions(conn, live, [definition])
      dropped.push(definition)
    }
    if (moves.length > 0) await exec(conn, `RENAME TABLE ${moves.join(', ')}`)
  } catch (error) {
    const unchanged = await putBack(conn, live, dropped)
    await dropDatabase(conn, plan.trash)
    throw new StrataError('E_BACKUP', `cannot swap the restored tables into ${live}: ${(error as Error).message}; ${unchanged}`, {
      hint: 'another session may hold a lock on a table (a long transaction); try again when it has ended',
    }, { cause: error })
  }
}

/** Recreates the live views and triggers dropped before a swap that failed; says in what state that leaves the database. */
async function putBack(conn: Connection, live: string, dropped: readonly Definition[]): Promise<string> {
  try {
    await createDefinitions(conn, live, dropped)
    return 'the live database is unchanged'
  } catch (error) {
    const names = dropped.map((definition) => `${definition.kind.toLowerCase()} ${definition.name}`).join(', ')
    return `its tables are unchanged, but recreating its views and triggers (${names}) failed: ${(error as Error).message}`
  }
}

/** Step 3: routines, views and triggers of the dump in the live database; the previous tables dropped. */
async function finishRestore(conn: Connection, live: string, restored: readonly Definition[], trash: string): Promise<void> {
  try {
    await dropDefinitions(conn, live, (await objectsOf(conn, live)).filter((object) => object.kind === 'PROCEDURE' || object.kind === 'FUNCTION'))
    // Routines first: a view may call a function.
    const order: Definition['kind'][] = ['PROCEDURE', 'FUNCTION', 'VIEW', 'TRIGGER']
    await createDefinitions(conn, live, order.flatMap((kind) => restored.filter((definition) => definition.kind === kind)))
  } catch (error) {
    const reason = (error as Error).message
    throw new StrataError('E_BACKUP', `the tables of ${live} were restored, but recreating its routines, views and triggers failed: ${reason}; the previous tables are kept in the database ${trash}`, {
      hint: `recreate the missing objects from the dump, then drop the database ${trash}`,
    }, { cause: error })
  }
  await dropDatabase(conn, trash)
}

/**
 * Views, triggers and routines of `database` as SHOW CREATE gives them, read with `database` as
 * the current one so that names inside them are not qualified with it and land in whichever
 * database they are created in. Triggers keep their order of execution (ACTION_ORDER).
 */
async function captureDefinitions(conn: Connection, database: string): Promise<Definition[]> {
  await exec(conn, `USE ${quote(database)}`)
  const definitions: Definition[] = []
  for (const { kind, name } of await objectsOf(conn, database)) definitions.push(await showCreate(conn, kind, name))
  return definitions
}

/** The views, routines and triggers of `database` (triggers in their order of execution). */
async function objectsOf(conn: Connection, database: string): Promise<{ kind: Definition['kind']; name: string }[]> {
  const rows = await conn.query<{ kind: Definition['kind']; name: string }>({
    sql: `SELECT 'VIEW' AS kind, TABLE_NAME AS name, 0 AS position FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
      UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME, 0 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
      UNION ALL SELECT 'TRIGGER', TRIGGER_NAME, ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
      ORDER BY kind, position, name`,
    params: [database, database, database],
  })
  return rows.map((row) => ({ kind: row.kind, name: String(row.name) }))
}

const SHOWN_AS: Readonly<Record<Definition['kind'], string>> = {
  VIEW: 'Create View',
  TRIGGER: 'SQL Original Statement',
  PROCEDURE: 'Create Procedure',
  FUNCTION: 'Create Function',
}

async function showCreate(conn: Connection, kind: Definition['kind'], name: string): Promise<Definition> {
  const [row] = await conn.query<Record<string, unknown>>({ sql: `SHOW CREATE ${kind} ${quote(name)}`, params: [] })
  const sql = row?.[SHOWN_AS[kind]]
  if (typeof sql !== 'string' || sql === '') {
    throw new StrataError('E_BACKUP', `cannot read the definition of the ${kind.toLowerCase()} ${name}`, {
      hint: 'the user of the URL needs the privileges to read routine and trigger definitions (SHOW CREATE)',
    })
  }
  return { kind, name, sql, sqlMode: typeof row?.['sql_mode'] === 'string' ? row['sql_mode'] : null }
}

async function dropDefinitions(conn: Connection, database: string, definitions: readonly Pick<Definition, 'kind' | 'name'>[]): Promise<void> {
  for (const definition of definitions) await exec(conn, `DROP ${definition.kind} IF EXISTS ${quote(database)}.${quote(definition.name)}`)
}

/**
 * Creates definitions in `database`, under each one's sql_mode. A view can select from a view
 * created after it (in name order), so views that fail are tried again while each round creates
 * at least one.
 */
async function createDefinitions(conn: Connection, database: string, definitions: readonly Definition[]): Promise<void> {
  await exec(conn, `USE ${quote(database)}`)
  const [saved] = await conn.query<{ mode: string }>({ sql: 'SELECT @@SESSION.sql_mode AS mode', params: [] })
  try {
    let pending = [...definitions]
    while (pending.length > 0) {
      const failed: { definition: Definition; error: unknown }[] = []
      for (const definition of pending) {
        try {
          await createDefinition(conn, definition)
        } catch (error) {
          if (definition.kind !== 'VIEW') throw error
          failed.push({ definition, error })
        }
      }
      if (failed.length === pending.length) throw failed[0]!.error
      pending = failed.map((entry) => entry.definition)
    }
  } finally {
    await conn.execute({ sql: 'SET SESSION sql_mode = ?', params: [saved?.mode ?? ''] })
  }
}

async function createDefinition(conn: Connection, definition: Definition): Promise<void> {
  if (definition.sqlMode !== null) await conn.execute({ sql: 'SET SESSION sql_mode = ?', params: [definition.sqlMode] })
  // No parameters: the text goes to the server as it is, `?` inside it included.
  await exec(conn, definition.sql)
}

// ——— live facts and size ———

/** Row counts of every table, read in one snapshot (REPEATABLE READ, started at once). */
async function liveFacts(conn: Connection, database: string): Promise<CopyFacts> {
  await exec(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
  await exec(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT')
  try {
    return { rowCounts: await countRows(conn, database), integrity: 'ok' }
  } finally {
    await exec(conn, 'COMMIT')
  }
}

async function countRows(conn: Connection, database: string): Promise<RowCounts> {
  const counts: Record<string, number> = {}
  for (const table of await tableNames(conn, database, COUNTED_TYPES)) {
    const [row] = await conn.query<{ n: number | string }>({ sql: `SELECT COUNT(*) AS n FROM ${quote(database)}.${quote(table)}`, params: [] })
    counts[table] = Number(row?.n ?? 0)
  }
  return counts
}

async function tableNames(conn: Connection, database: string, types: string): Promise<string[]> {
  const rows = await conn.query<{ name: string }>({
    sql: `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND ${types} ORDER BY TABLE_NAME`,
    params: [database],
  })
  return rows.map((row) => String(row.name))
}

/**
 * The tables' data and index pages, doubled: the upper bound the disk-space check needs. A dump
 * holds no index pages, but text can outgrow the pages it comes from: `--hex-blob` writes each
 * binary byte as two characters, and escaped strings and decimal numbers take more room than
 * their stored form. InnoDB's page slack makes DATA_LENGTH itself generous. The sizes are
 * InnoDB's statistics, which trail writes of the last seconds; ANALYZE TABLE would refresh them
 * but can scan whole tables on MariaDB, too dear for a preflight check.
 */
async function estimateSize(conn: Connection, database: string): Promise<number> {
  const [row] = await conn.query<{ bytes: number | string | null }>({
    sql: 'SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    params: [database],
  })
  return SIZE_FACTOR * Number(row?.bytes ?? 0) + SIZE_OVERHEAD
}

// ——— sessions ———

async function withSession<T>(url: DatabaseUrl, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await openMysql(url)
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

function quote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``
}

async function exec(conn: Connection, sql: string): Promise<void> {
  await conn.execute({ sql, params: [] })
}
