import { randomBytes } from 'node:crypto'

/** An id that sorts by creation time: `20261125T164500Z-3f9a1c` (runs and backups). */
export function timeId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${randomBytes(3).toString('hex')}`
}
