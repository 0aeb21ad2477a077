import { StrataError } from '../errors/index.js'

/**
 * One entry of an environment's `maintenance_window` policy (SPEC S9), parsed from
 * `"DAYS HH:MM-HH:MM ZONE"`, e.g. `Mon-Fri 22:00-06:00 Europe/Berlin`.
 *
 * When `endMinute` is less than `startMinute` the window crosses midnight, and `days` name the
 * day on which it starts: `Sat 22:00-02:00 UTC` is open from Saturday 22:00 to Sunday 02:00.
 */
export interface MaintenanceWindow {
  /** The entry as written (trimmed), quoted in messages. */
  readonly text: string
  /** The days on which the window opens, 0 = Sunday … 6 = Saturday. */
  readonly days: ReadonlySet<number>
  /** Local minutes after midnight at which the window opens (inclusive). */
  readonly startMinute: number
  /** Local minutes after midnight at which it closes (exclusive); below `startMinute`: next day. */
  readonly endMinute: number
  /** The time zone the times are read in, canonicalised by Intl (`Etc/UTC` becomes `UTC`). */
  readonly zone: string
}

/** Whether an instant lies inside some window, and if not, when the next one opens. */
export type WindowState =
  | { readonly open: true; readonly window: string; readonly closesAt: Date }
  | { readonly open: false; readonly nextOpen: Date | null; readonly nextWindow: string | null }

/** How far ahead `windowState` looks for the next opening; every window recurs within a week. */
export const LOOKAHEAD_DAYS = 8

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
const DAY_MS = 86_400_000
const FORMAT_HINT =
  'write it as "DAYS HH:MM-HH:MM ZONE": DAYS like Mon, Mon-Fri, Sat,Sun or *; ZONE UTC or an IANA name, e.g. "Mon-Fri 22:00-06:00 Europe/Berlin"'

/**
 * Parses one `maintenance_window` entry. Days are case-insensitive; a day range may wrap
 * (`Fri-Mon` is Fri, Sat, Sun, Mon) and a list may mix ranges and days (`Mon-Wed,Fri`).
 *
 * @throws StrataError E_CONFIG naming the entry and the part that is wrong, e.g.
 *   `maintenance window "Sun 2:00-04:00 UTC": time \`2:00\` is not HH:MM`.
 */
export function parseWindow(text: string): MaintenanceWindow {
  const trimmed = text.trim()
  const fail = (problem: string, hint = FORMAT_HINT): never => {
    throw new StrataError('E_CONFIG', `maintenance window "${trimmed}": ${problem}`, { hint })
  }
  // Spaces around `-` and `,` are tolerated (`Mon - Fri`, `02:00 - 04:00`); zone names have none.
  const parts = trimmed.replace(/\s*([-,])\s*/g, '$1').split(/\s+/)
  const [daysPart, timesPart, zonePart] = parts
  if (parts.length !== 3 || daysPart === undefined || timesPart === undefined || zonePart === undefined) {
    return fail('expected three parts, "DAYS HH:MM-HH:MM ZONE"')
  }
  const days = parseDays(daysPart, fail)
  const times = timesPart.split('-')
  const [start, end] = times
  if (times.length !== 2 || start === undefined || end === undefined) {
    return fail(`times \`${timesPart}\` are not HH:MM-HH:MM`)
  }
  const startMinute = parseTime(start, fail)
  const endMinute = parseTime(end, fail)
  if (startMinute === endMinute) {
    fail(`window \`${timesPart}\` is empty: it starts and ends at the same time`, 'give an end time different from the start time, or remove maintenance_window to allow any time')
  }
  return { text: trimmed, days, startMinute, endMinute, zone: canonicalZone(zonePart, fail) }
}

/** Parses the policy value: one entry or a list of them (an empty list gives no windows). */
export function parseWindows(value: string | readonly string[]): MaintenanceWindow[] {
  return typeof value === 'string' ? [parseWindow(value)] : value.map(parseWindow)
}

/**
 * Whether `at` lies inside any of `windows` (start inclusive, end exclusive), with wall-clock
 * times read in each window's zone, DST included. A local time skipped by a DST gap counts as
 * the first instant after the gap; a local time that occurs twice counts at its first occurrence.
 *
 * Open: the window that stays open longest and when it closes. Closed: the earliest opening
 * within `LOOKAHEAD_DAYS` over all windows, or null when none opens in that time.
 */
export function windowState(windows: readonly MaintenanceWindow[], at: Date): WindowState {
  const now = at.getTime()
  if (Number.isNaN(now)) throw new StrataError('E_INTERNAL', 'windowState was given an invalid date')
  let open: { window: string; closesAt: number } | null = null
  let next: { window: string; opensAt: number } | null = null
  for (const window of windows) {
    for (const { start, end } of occurrences(window, now)) {
      if (start <= now && now < end) {
        if (open === null || end > open.closesAt) open = { window: window.text, closesAt: end }
      } else if (start > now && start <= now + LOOKAHEAD_DAYS * DAY_MS) {
        if (next === null || start < next.opensAt) next = { window: window.text, opensAt: start }
      }
    }
  }
  if (open) return { open: true, window: open.window, closesAt: new Date(open.closesAt) }
  return next
    ? { open: false, nextOpen: new Date(next.opensAt), nextWindow: next.window }
    : { open: false, nextOpen: null, nextWindow: null }
}

/**
 * The sentence a refusal or a status line uses, e.g. `outside the maintenance window
 * "Sun 02:00-04:00 UTC"; the next one opens 2026-12-06 02:00 UTC (Sun, 2026-12-06T02:00:00.000Z)`,
 * or `inside the maintenance window "…" until 2026-12-06 04:00 UTC (Sun, …)`. Local times are
 * shown in the window's own zone, followed by the UTC instant.
 */
export function describeWindowState(windows: readonly MaintenanceWindow[], at: Date): string {
  const state = windowState(windows, at)
  const zoneOf = (text: string): string => windows.find((w) => w.text === text)?.zone ?? 'UTC'
  if (state.open) {
    return `inside the maintenance window "${state.window}" until ${formatInstant(state.closesAt, zoneOf(state.window))}`
  }
  const which = windows.length === 1 ? `the maintenance window "${windows[0]?.text}"` : `every maintenance window (${windows.map((w) => `"${w.text}"`).join(', ')})`
  if (state.nextOpen === null || state.nextWindow === null) {
    return `outside ${which}; none opens within the next ${LOOKAHEAD_DAYS} days`
  }
  const one = windows.length === 1 ? 'the next one' : `the next one, "${state.nextWindow}",`
  return `outside ${which}; ${one} opens ${formatInstant(state.nextOpen, zoneOf(state.nextWindow))}`
}

/**
 * The E_POLICY refusal (exit 3) for a run of `environment` at `at`, or null inside a window or
 * when there are no windows. The message names the rule's windows and the next opening.
 */
export function maintenanceWindowRefusal(windows: readonly MaintenanceWindow[], at: Date, environment: string): StrataError | null {
  if (windows.length === 0) return null
  const state = windowState(windows, at)
  if (state.open) return null
  const when = state.nextOpen ? `once the window opens at ${state.nextOpen.toISOString()}` : 'inside a window'
  return new StrataError('E_POLICY', `environment \`${environment}\` is ${describeWindowState(windows, at)}`, {
    rule: 'maintenance_window',
    nextOpen: state.nextOpen?.toISOString() ?? null,
    hint: `run again ${when}, or widen the environment's maintenance_window policy`,
  })
}

/** `2026-12-06 02:00 Europe/Berlin (Sun, 2026-12-06T01:00:00.000Z)`. */
function formatInstant(instant: Date, zone: string): string {
  const local = localParts(zone, instant.getTime())
  const pad = (n: number): string => String(n).padStart(2, '0')
  const day = DAY_NAMES[weekday(local.dayNumber)]
  return `${local.year}-${pad(local.month)}-${pad(local.day)} ${pad(local.hour)}:${pad(local.minute)} ${zone} (${day}, ${instant.toISOString()})`
}

type Fail = (problem: string) => never

function parseDays(part: string, fail: Fail): ReadonlySet<number> {
  if (part === '*') return new Set([0, 1, 2, 3, 4, 5, 6])
  const days = new Set<number>()
  for (const item of part.split(',')) {
    if (item === '') fail(`day list \`${part}\` has an empty entry`)
    const bounds = item.split('-')
    const [from, to] = bounds
    if (bounds.length > 2 || from === '' || to === '') fail(`day range \`${item}\` is not DAY-DAY`)
    const first = dayIndex(from ?? '', fail)
    if (to === undefined) {
      days.add(first)
      continue
    }
    // A range may wrap past Sunday: Fri-Mon is Fri, Sat, Sun, Mon.
    const last = dayIndex(to, fail)
    for (let d = first; ; d = (d + 1) % 7) {
      days.add(d)
      if (d === last) break
    }
  }
  return days
}

function dayIndex(name: string, fail: Fail): number {
  const index = DAY_NAMES.findIndex((d) => d.toLowerCase() === name.toLowerCase())
  return index >= 0 ? index : fail(`unknown day \`${name}\` (use Mon, Tue, Wed, Thu, Fri, Sat, Sun or *)`)
}

function parseTime(text: string, fail: Fail): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text)
  if (!match) return fail(`time \`${text}\` is not HH:MM`)
  const hour = Number(match[1])
  const minute = Number(match[2])
  if (hour > 23) fail(`time \`${text}\` has hour ${hour}; hours run 00-23`)
  if (minute > 59) fail(`time \`${text}\` has minute ${minute}; minutes run 00-59`)
  return hour * 60 + minute
}

function canonicalZone(zone: string, fail: (problem: string, hint?: string) => never): string {
  try {
    return formatter(zone).resolvedOptions().timeZone
  } catch (error) {
    if (error instanceof RangeError) {
      return fail(`unknown time zone \`${zone}\``, 'use UTC or an IANA time zone name such as Europe/Berlin or America/New_York')
    }
    throw error
  }
}

/**
 * The instants at which `window` opens and closes on each local date from the day before `now`
 * (a window crossing midnight may still be open) to LOOKAHEAD_DAYS after it. Occurrences that
 * a DST change makes empty are left out.
 */
function occurrences(window: MaintenanceWindow, now: number): { start: number; end: number }[] {
  const today = localParts(window.zone, now).dayNumber
  const result: { start: number; end: number }[] = []
  for (let dayNumber = today - 1; dayNumber <= today + LOOKAHEAD_DAYS; dayNumber++) {
    if (!window.days.has(weekday(dayNumber))) continue
    const start = localToInstant(window.zone, dayNumber, window.startMinute)
    const endDay = window.endMinute < window.startMinute ? dayNumber + 1 : dayNumber
    const end = localToInstant(window.zone, endDay, window.endMinute)
    if (start < end) result.push({ start, end })
  }
  return result
}

/** Days since 1970-01-01 → 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
function weekday(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7
}

interface LocalParts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  /** The local date as days since 1970-01-01. */
  readonly dayNumber: number
  /** The local wall-clock time read as if it were UTC, in ms: instant + zone offset. */
  readonly wallMs: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone)
  if (!format) {
    // hourCycle h23: some engines print midnight as 24 with hour12: false.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(zone, format)
  }
  return format
}

function localParts(zone: string, instant: number): LocalParts {
  const values: Record<string, number> = {}
  for (const part of formatter(zone).formatToParts(instant)) {
    if (part.type !== 'literal') values[part.type] = Number(part.value)
  }
  const get = (type: string): number => values[type] ?? 0
  const [year, month, day, hour, minute] = [get('year'), get('month'), get('day'), get('hour'), get('minute')]
  const dayStart = Date.UTC(year, month - 1, day)
  return { year, month, day, hour, minute, dayNumber: dayStart / DAY_MS, wallMs: Date.UTC(year, month - 1, day, hour, minute, get('second')) }
}

/** The zone's offset from UTC at `instant`, in ms (Intl resolves to whole seconds). */
function offsetAt(zone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000
  return localParts(zone, whole).wallMs - whole
}

/**
 * The instant at which the local clock in `zone` reads `minute` on local date `dayNumber`.
 * Of two such instants (a repeated hour) the first; of none (a DST gap) the end of the gap.
 */
function localToInstant(zone: string, dayNumber: number, minute: number): number {
  const wall = dayNumber * DAY_MS + minute * 60_000
  // Offsets never exceed a day, so the offsets a day either side cover any change near `wall`.
  const before = offsetAt(zone, wall - DAY_MS)
  const after = offsetAt(zone, wall + DAY_MS)
  const valid = [...new Set([before, after])].map((o) => wall - o).filter((t) => offsetAt(zone, t) === wall - t)
  if (valid.length > 0) return Math.min(...valid)
  // Gap: the clock jumped from `before` to `after` between these two bounds; find the jump.
  let lo = wall - after // still on the old offset
  let hi = wall - before // already on the new one
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000
    if (offsetAt(zone, mid) === before) lo = mid
    else hi = mid
  }
  return hi
}
