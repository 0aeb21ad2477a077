let lastMs = -1
let lastIso = ''

/**
 * The current time as ISO-8601 UTC, computed once per millisecond: events and alerts stamp
 * thousands of these in a burst, and formatting a date costs more than the rest of an event.
 */
export function isoNow(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastIso = new Date(now).toISOString()
  }
  return lastIso
}
