import { randomBytes } from 'node:crypto'

/** An id that sorts by creation time: `20261125T164500Z-3f9a1c` (runs and backups). */
export function timeId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${randomBytes(3).toString('hex')}`
}

/** When a `timeId` was made (epoch ms, to the second); null for text that is not one. */
export function timeOfId(id: string): number | null {
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]+$/.exec(id)
  return stamp ? Date.UTC(Number(stamp[1]), Number(stamp[2]) - 1, Number(stamp[3]), Number(stamp[4]), Number(stamp[5]), Number(stamp[6])) : null
}
