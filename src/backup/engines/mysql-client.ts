import { mkdtemp, open, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseUrl } from '../../dialects/dialect.js'
import { StrataError } from '../../errors/index.js'
import { findProgram, isFailedRun, runProgram } from '../programs.js'

/**
 * The MySQL and MariaDB client programs as the backup engine runs them: `mysqldump` (or
 * `mariadb-dump`) to write a dump, `mysql` (or `mariadb`) to load one.
 *
 * The client programs always run with `--no-defaults` as their first argument: an option file
 * (`~/.my.cnf`, `/etc/mysql/my.cnf`) could otherwise send them to another host, user or
 * database than the URL names, or change the dump's format (`skip-comments` drops the
 * `-- Dump completed` line a complete dump is recognised by; `compact`, `skip-extended-insert`…).
 * Everything they need comes from the URL: host and port (or `?socketPath=`), user, the
 * password through `MYSQL_PWD` (never an argument, SPEC S16), and TLS from mysql2's `?ssl=`
 * parameter. Settings kept only in an option file must be put in the URL.
 */

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

export const DUMP_PROGRAMS: readonly string[] = ['mysqldump', 'mariadb-dump']
export const CLIENT_PROGRAMS: readonly string[] = ['mysql', 'mariadb']

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
export function databaseOf(url: DatabaseUrl): string {
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

/** `mysqldump DATABASE > file` with the URL's server, user and TLS settings (see dumpTo). */
export function dumpDatabase(url: DatabaseUrl, database: string, file: string): Promise<void> {
  return withClient(url, DUMP_PROGRAMS, (program, target) => dumpTo(program, target, database, file))
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

/** `mysql DATABASE < file`: the client reads the file itself, however large, from its stdin. */
export async function loadDump(url: DatabaseUrl, database: string, file: string): Promise<void> {
  await withClient(url, CLIENT_PROGRAMS, async (program, target) => {
    const handle = await open(file, 'r')
    try {
      await runProgram(program, [...target.args, ...LOAD_OPTIONS, '--', database], { env: target.env, stdinFd: handle.fd })
    } catch (error) {
      // A missing program stays as findProgram words it; a failed load names the dump.
      if (error instanceof StrataError && !isFailedRun(error)) throw error
      throw new StrataError('E_BACKUP', `cannot load the dump ${file} into the scratch database ${database}: ${(error as Error).message}`, {
        file,
        hint: 'the dump is damaged or was written for another server; use another backup, or take a new one with `strata backup create`',
      }, { cause: error })
    } finally {
      await handle.close()
    }
  })
}
