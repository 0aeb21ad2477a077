import { existsSync, statfsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/** Bytes an unprivileged user may still write on the file system holding `path` (or its nearest existing parent). */
export function freeBytesAt(path: string): number {
  let dir = resolve(path)
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  const stats = statfsSync(dir)
  return Number(stats.bavail) * Number(stats.bsize)
}
