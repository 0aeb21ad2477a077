import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach } from 'vitest'

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const CLI = join(ROOT, 'dist', 'cli.js')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built CLI synchronously in `cwd`. */
export function strata(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, STRATA_ENV: '', STRATA_DATABASE_URL: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** Starts the built CLI without waiting; resolves with its result when it exits. */
export function strataAsync(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): { pid: number; done: Promise<CliResult>; kill(signal?: NodeJS.Signals): void; stderrText(): string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, STRATA_ENV: '', STRATA_DATABASE_URL: '', ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((resolveDone) => child.on('close', (code, signal) => resolveDone({ code: code ?? (signal ? -1 : 0), stdout, stderr })))
  return { pid: child.pid!, done, kill: (signal = 'SIGTERM') => child.kill(signal), stderrText: () => stderr }
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'strata-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A copy of an example project in a temp dir, without any database left in it. */
export function copyExample(name: string): { dir: string; cleanup(): void } {
  const temp = tempDir()
  cpSync(join(ROOT, 'examples', name), temp.dir, { recursive: true, filter: (src) => !/\.(db|db-wal|db-shm|strata-lock)$/.test(src) })
  return temp
}

/** Flags that run a command on `app.db` and `migrations/` in the working directory, without a config. */
export const URL_ARGS: readonly string[] = ['--url', 'sqlite:app.db', '--migrations', 'migrations']

/** A fresh temp project for each test of the enclosing describe: `dir` with an empty `migrations/`. */
export function useProject(): { readonly dir: string; write(name: string, text: string): void } {
  let temp: { dir: string; cleanup(): void } | undefined
  beforeEach(() => {
    temp = tempDir()
    mkdirSync(join(temp.dir, 'migrations'))
  })
  afterEach(() => temp?.cleanup())
  return {
    get dir() {
      return temp!.dir
    },
    write(name, text) {
      writeFileSync(join(temp!.dir, 'migrations', name), text)
    },
  }
}
