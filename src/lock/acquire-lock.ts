import { hostname, userInfo } from 'node:os'
import { StrataError } from '../errors/index.js'
import type { LockLease, LockOwner, MigrationLock } from '../dialects/dialect.js'
import { sleep } from '../util/process.js'

export interface AcquireOptions {
  /** How long to wait for another runner, in milliseconds (`--lock-timeout`, default 60 s). */
  readonly timeoutMs: number
  readonly command: string
  /** Called once when the lock is found held, before waiting. */
  readonly onWait?: (holder: LockOwner | null) => void
  readonly pollMs?: number
}

/** The identity recorded by this process when it takes a lock. */
export function currentOwner(command: string): LockOwner {
  let user = process.env['USER'] ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (containers): keep $USER.
  }
  return { owner: user, pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command }
}

/**
 * Takes the migration lock, waiting up to `timeoutMs` for another runner (SPEC S4); then throws
 * E_LOCKED naming the holder's host and pid.
 */
export async function acquireLock(lock: MigrationLock, options: AcquireOptions): Promise<LockLease> {
  const owner = currentOwner(options.command)
  const deadline = Date.now() + options.timeoutMs
  let announced = false
  for (;;) {
    const attempt = await lock.tryAcquire(owner)
    if ('lease' in attempt) return attempt.lease
    if (!announced) {
      options.onWait?.(attempt.holder)
      announced = true
    }
    if (Date.now() >= deadline) throw lockedError(attempt.holder, options.timeoutMs)
    await sleep(Math.min(options.pollMs ?? 100, Math.max(1, deadline - Date.now())))
  }
}

export function describeHolder(holder: LockOwner | null): string {
  if (!holder) return 'another runner'
  const what = holder.command ? ` (\`strata ${holder.command}\`)` : ''
  return `pid ${holder.pid} on host ${holder.host}${what}, started ${holder.startedAt} by ${holder.owner}`
}

function lockedError(holder: LockOwner | null, timeoutMs: number): StrataError {
  const pidHint = holder ? `if process ${holder.pid} on host ${holder.host} is gone, run \`strata unlock\`` : 'run `strata unlock` if no other run is active'
  return new StrataError('E_LOCKED', `the migration lock is held by ${describeHolder(holder)}; gave up after ${Math.round(timeoutMs / 1000)} s`, {
    hint: `wait for that run to finish or raise --lock-timeout; ${pidHint}`,
    holder,
  })
}
