import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * The folder of strata's per-user caches (what can always be computed again): STRATA_CACHE_DIR,
 * else $XDG_CACHE_HOME/strata-migrate, else ~/.cache/strata-migrate; null without a home.
 */
export function cacheDir(environ: NodeJS.ProcessEnv = process.env): string | null {
  if (environ['STRATA_CACHE_DIR']) return environ['STRATA_CACHE_DIR']
  if (environ['XDG_CACHE_HOME']) return join(environ['XDG_CACHE_HOME'], 'strata-migrate')
  try {
    return join(homedir(), '.cache', 'strata-migrate')
  } catch {
    return null
  }
}
