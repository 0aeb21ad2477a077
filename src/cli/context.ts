import type { Command } from 'commander'
import type { Strata } from '../api/strata.js'
import { StrataError } from '../errors/index.js'
import type { GlobalOptions } from './output.js'
import { attachProgress } from './progress.js'

/** A bare relative target such as `-1` is a target, not a flag (SPEC S12): argv hides it as this. */
export const RELATIVE_MARK = '\u0000rel:'

export function unmarkTarget(target: string | undefined): string | undefined {
  return target?.startsWith(RELATIVE_MARK) ? target.slice(RELATIVE_MARK.length) : target
}

/** The global options as commander parsed them, wherever on the line they were given. */
export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions
}

/** Opens the API for a command (lazily imported, so `--help` and `new` stay fast). */
export async function openStrata(options: GlobalOptions, withProgress = false): Promise<Strata> {
  const { Strata } = await import('../api/strata.js')
  const lockTimeoutSeconds = parseLockTimeout(options.lockTimeout)
  const metricsPort = parsePort(options.metricsPort)
  const strata = await Strata.open({
    ...(options.config ? { config: options.config } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.url ? { url: options.url } : {}),
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(lockTimeoutSeconds !== undefined ? { lockTimeoutSeconds } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  })
  if (withProgress) attachProgress(strata, options.progress ?? (process.stderr.isTTY ? 'bar' : 'plain'))
  return strata
}

function parseLockTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new StrataError('E_USAGE', `--lock-timeout must be a number of seconds, got \`${value}\``)
  }
  return seconds
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StrataError('E_USAGE', `--metrics-port must be a port number (0-65535), got \`${value}\``)
  }
  return port
}

/** A yes/no question on the terminal, when there is one to ask on (policy `confirm`). */
export function confirmer(): { confirm?: (question: string) => Promise<boolean> } {
  return process.stdin.isTTY && process.stderr.isTTY ? { confirm: ask } : {}
}

async function ask(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises')
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim())
  } finally {
    prompt.close()
  }
}
