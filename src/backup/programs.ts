import { spawn } from 'node:child_process'
import { StrataError } from '../errors/index.js'

/** How to install each external client program strata runs (SPEC S5, S13). */
const INSTALL: Readonly<Record<string, string>> = {
  postgres: 'install the PostgreSQL client tools (Debian/Ubuntu: `apt install postgresql-client`; macOS: `brew install libpq`); their major version must be at least the server\'s',
  mysql: 'install the MariaDB or MySQL client tools (Debian/Ubuntu: `apt install mariadb-client` or `default-mysql-client`; macOS: `brew install mysql-client`)',
  tar: 'install tar (Debian/Ubuntu: `apt install tar`)',
}

const FAMILY: Readonly<Record<string, string>> = {
  pg_dump: 'postgres', pg_restore: 'postgres', psql: 'postgres',
  mysqldump: 'mysql', 'mariadb-dump': 'mysql', mysql: 'mysql', mariadb: 'mysql',
  tar: 'tar',
}

interface ProgramRunOptions {
  /** Extra environment (passwords go here, never in arguments: SPEC S16). */
  readonly env?: NodeJS.ProcessEnv
  /** A file descriptor the program's stdout goes to (default: captured and returned). */
  readonly stdoutFd?: number
  /** Kills the program after this long (default: none). */
  readonly timeoutMs?: number
}

/** How to run a program; its stdin is `input`, or the descriptor `stdinFd`, or nothing (never both). */
export type ProgramRun = ProgramRunOptions &
  (
    | {
        /** Written to the program's stdin, then closed. */
        readonly input?: string | Buffer
        readonly stdinFd?: never
      }
    | {
        /** A file descriptor the program reads as its stdin (a file too large to hold in memory, such as a dump). */
        readonly stdinFd?: number
        readonly input?: never
      }
  )

/** runProgram's errors for a program that ran and then failed, as opposed to one that could not start. */
const failedRuns = new WeakSet<StrataError>()

/**
 * Runs an external program with an argument array (never a shell string). A missing program is
 * E_BACKUP naming it and how to install it; a non-zero exit is E_BACKUP with its stderr's tail.
 */
export function runProgram(program: string, args: readonly string[], options: ProgramRun = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...process.env, ...options.env },
      stdio: [options.stdinFd ?? (options.input === undefined ? 'ignore' : 'pipe'), options.stdoutFd ?? 'pipe', 'pipe'],
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    })
    const out: Buffer[] = []
    let err = ''
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-8000)
    })
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {})
      child.stdin!.end(options.input)
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingProgram(program) : new StrataError('E_BACKUP', `cannot run ${program}: ${error.message}`, {}, { cause: error }))
    })
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8')
      if (code === 0) return resolve({ stdout, stderr: err })
      const failure = new StrataError('E_BACKUP', `${program} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${err.trim() ? `: ${lastLines(err)}` : ''}`, {
        program,
        hint: `read ${program}'s message above; run again with --debug for details`,
      })
      failedRuns.add(failure)
      reject(failure)
    })
  })
}

/**
 * True for runProgram's error when the program ran and exited with a non-zero status or was
 * killed; false when it could not start (missing: the E_BACKUP of missingProgram; not
 * executable), so a caller can word a failed run for its own task and pass the others on.
 */
export function isFailedRun(error: unknown): boolean {
  return error instanceof StrataError && failedRuns.has(error)
}

/** The first of `candidates` found on PATH (e.g. `mysqldump`, `mariadb-dump`); E_BACKUP when none is. */
export async function findProgram(candidates: readonly string[]): Promise<string> {
  const { access, constants } = await import('node:fs/promises')
  const { delimiter, join } = await import('node:path')
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)
  for (const name of candidates) {
    for (const dir of dirs) {
      try {
        await access(join(dir, name), constants.X_OK)
        return name
      } catch {
        // Not in this directory.
      }
    }
  }
  throw missingProgram(candidates.join(' or '), candidates[0])
}

export function missingProgram(shown: string, program = shown): StrataError {
  const family = FAMILY[program] ?? ''
  return new StrataError('E_BACKUP', `the program ${shown} is not installed (not found on PATH)`, {
    program: shown,
    hint: INSTALL[family] ?? `install ${program} and make sure it is on PATH`,
  })
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-6).join('\n')
}
