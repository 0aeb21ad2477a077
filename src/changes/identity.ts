import { spawnSync } from 'node:child_process'

/**
 * git's `user.email` as configured for `cwd` (repository, then global), or null when git is
 * missing, fails, or has none. Run with an argument array and no shell.
 */
export function gitUserEmail(cwd: string): string | null {
  const result = spawnSync('git', ['config', 'user.email'], {
    cwd,
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  if (result.error || result.status !== 0 || typeof result.stdout !== 'string') return null
  const email = result.stdout.trim()
  return email === '' ? null : email
}

/** Who approves or requests when `--as` is not given (SPEC S9): git's user.email, else `fallback()` (user@host). */
export function defaultIdentity(cwd: string, fallback: () => string): string {
  return gitUserEmail(cwd) ?? fallback()
}
