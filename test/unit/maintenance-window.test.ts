import { describe, expect, it } from 'vitest'
import { StrataError } from '../../src/errors/index.js'
import {
  describeWindowState,
  maintenanceWindowRefusal,
  parseWindow,
  parseWindows,
  windowState,
  type MaintenanceWindow,
  type WindowState,
} from '../../src/policy/maintenance-window.js'

// Real Intl throughout: time zone data comes from the Node runtime, as in production.
const at = (iso: string): Date => new Date(iso)

function stateAt(windows: string | readonly string[], iso: string): WindowState {
  return windowState(parseWindows(windows), at(iso))
}

function expectOpen(windows: string | readonly string[], iso: string, closesAt: string, window?: string): void {
  const state = stateAt(windows, iso)
  expect(state).toEqual({ open: true, window: window ?? (typeof windows === 'string' ? windows : expect.any(String)), closesAt: at(closesAt) })
}

function expectClosed(windows: string | readonly string[], iso: string, nextOpen: string, nextWindow?: string): void {
  const state = stateAt(windows, iso)
  expect(state).toEqual({ open: false, nextOpen: at(nextOpen), nextWindow: nextWindow ?? (typeof windows === 'string' ? windows : expect.any(String)) })
}

function configError(text: string): StrataError {
  try {
    parseWindow(text)
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError)
    return error as StrataError
  }
  throw new Error(`parseWindow(${JSON.stringify(text)}) did not throw`)
}

describe('parseWindow', () => {
  it('parses the SPEC example into days, minutes and zone', () => {
    const w = parseWindow('Sun 02:00-04:00 UTC')
    expect(w).toEqual<MaintenanceWindow>({ text: 'Sun 02:00-04:00 UTC', days: new Set([0]), startMinute: 120, endMinute: 240, zone: 'UTC' })
  })

  it('reads *, lists, ranges, wrapping ranges and mixes of them', () => {
    expect([...parseWindow('* 09:00-17:00 UTC').days].sort()).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect([...parseWindow('Sat,Sun 09:00-17:00 UTC').days].sort()).toEqual([0, 6])
    expect([...parseWindow('Mon-Fri 09:00-17:00 UTC').days].sort()).toEqual([1, 2, 3, 4, 5])
    expect([...parseWindow('Fri-Mon 09:00-17:00 UTC').days].sort()).toEqual([0, 1, 5, 6])
    expect([...parseWindow('Mon-Wed,Fri 09:00-17:00 UTC').days].sort()).toEqual([1, 2, 3, 5])
    expect([...parseWindow('Sun-Sun 09:00-17:00 UTC').days]).toEqual([0])
  })

  it('takes day names in any case and tolerates extra whitespace', () => {
    const w = parseWindow('  mon - FRI,sun   22:00 - 06:00\tEurope/Berlin ')
    expect([...w.days].sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(w).toMatchObject({ text: 'mon - FRI,sun   22:00 - 06:00\tEurope/Berlin', startMinute: 1320, endMinute: 360, zone: 'Europe/Berlin' })
  })

  it('accepts UTC and Etc/UTC, which Intl canonicalises to UTC', () => {
    expect(parseWindow('Sun 02:00-04:00 UTC').zone).toBe('UTC')
    expect(parseWindow('Sun 02:00-04:00 Etc/UTC').zone).toBe('UTC')
    expect(parseWindow('Sun 02:00-04:00 europe/berlin').zone).toBe('Europe/Berlin')
  })

  it('parses a list, or nothing from an empty one', () => {
    expect(parseWindows(['Sat 10:00-12:00 UTC', 'Wed 01:00-02:00 UTC']).map((w) => w.text)).toEqual(['Sat 10:00-12:00 UTC', 'Wed 01:00-02:00 UTC'])
    expect(parseWindows('Sat 10:00-12:00 UTC')).toHaveLength(1)
    expect(parseWindows([])).toEqual([])
  })

  describe('errors (E_CONFIG, naming the entry and the wrong part)', () => {
    it.each([
      ['Sun 2:00-04:00 UTC', 'maintenance window "Sun 2:00-04:00 UTC": time `2:00` is not HH:MM'],
      ['Sun 02:00-4am UTC', 'maintenance window "Sun 02:00-4am UTC": time `4am` is not HH:MM'],
      ['Sun 24:00-04:00 UTC', 'maintenance window "Sun 24:00-04:00 UTC": time `24:00` has hour 24; hours run 00-23'],
      ['Sun 02:00-04:60 UTC', 'maintenance window "Sun 02:00-04:60 UTC": time `04:60` has minute 60; minutes run 00-59'],
      ['Sun 02:00-02:00 UTC', 'maintenance window "Sun 02:00-02:00 UTC": window `02:00-02:00` is empty: it starts and ends at the same time'],
      ['Sun 02:00 UTC', 'maintenance window "Sun 02:00 UTC": times `02:00` are not HH:MM-HH:MM'],
      ['Sun 02:00-03:00-04:00 UTC', 'maintenance window "Sun 02:00-03:00-04:00 UTC": times `02:00-03:00-04:00` are not HH:MM-HH:MM'],
      ['Sunday 02:00-04:00 UTC', 'maintenance window "Sunday 02:00-04:00 UTC": unknown day `Sunday` (use Mon, Tue, Wed, Thu, Fri, Sat, Sun or *)'],
      ['Mon-Frj 02:00-04:00 UTC', 'maintenance window "Mon-Frj 02:00-04:00 UTC": unknown day `Frj`'],
      ['*,Mon 02:00-04:00 UTC', 'maintenance window "*,Mon 02:00-04:00 UTC": unknown day `*`'],
      ['Mon,,Fri 02:00-04:00 UTC', 'maintenance window "Mon,,Fri 02:00-04:00 UTC": day list `Mon,,Fri` has an empty entry'],
      ['Mon-,Tue 02:00-04:00 UTC', 'maintenance window "Mon-,Tue 02:00-04:00 UTC": day range `Mon-` is not DAY-DAY'],
      ['Mon-Wed-Fri 02:00-04:00 UTC', 'maintenance window "Mon-Wed-Fri 02:00-04:00 UTC": day range `Mon-Wed-Fri` is not DAY-DAY'],
      ['Sun 02:00-04:00 Mars/Olympus', 'maintenance window "Sun 02:00-04:00 Mars/Olympus": unknown time zone `Mars/Olympus`'],
      ['Sun 02:00-04:00', 'maintenance window "Sun 02:00-04:00": expected three parts, "DAYS HH:MM-HH:MM ZONE"'],
      ['Sun 02:00-04:00 UTC extra', 'maintenance window "Sun 02:00-04:00 UTC extra": expected three parts'],
      ['', 'maintenance window "": expected three parts'],
    ])('%j', (text, message) => {
      const error = configError(text)
      expect(error.code).toBe('E_CONFIG')
      expect(error.exitCode).toBe(2)
      expect(error.message).toContain(message)
      expect(error.details.hint).toEqual(expect.any(String))
    })

    it('hints at the zone format for an unknown zone and the format otherwise', () => {
      expect(configError('Sun 02:00-04:00 Nowhere').hint).toContain('IANA time zone name')
      expect(configError('Sun 2:00-04:00 UTC').hint).toContain('"DAYS HH:MM-HH:MM ZONE"')
    })

    it('names the bad entry of a list', () => {
      expect(() => parseWindows(['Sat 10:00-12:00 UTC', 'Sat 10:00-12:00 Nowhere'])).toThrow('"Sat 10:00-12:00 Nowhere": unknown time zone `Nowhere`')
    })
  })
})

describe('windowState', () => {
  describe('Sun 02:00-04:00 UTC (the SPEC example)', () => {
    const w = 'Sun 02:00-04:00 UTC'

    it('is open from the start, inclusive, to the end, exclusive', () => {
      expectOpen(w, '2026-12-06T02:00:00Z', '2026-12-06T04:00:00Z')
      expectOpen(w, '2026-12-06T03:59:59.999Z', '2026-12-06T04:00:00Z')
    })

    it('is closed at 04:00 exactly, with the next Sunday as the next opening', () => {
      expectClosed(w, '2026-12-06T04:00:00Z', '2026-12-13T02:00:00Z')
      expectClosed(w, '2026-12-06T01:59:59.999Z', '2026-12-06T02:00:00Z')
    })

    it('gives the coming Sunday from a Wednesday', () => {
      expectClosed(w, '2026-12-02T12:00:00Z', '2026-12-06T02:00:00Z')
    })
  })

  describe('Mon-Fri 22:00-06:00 Europe/Berlin (crosses midnight; CET is UTC+1 in January)', () => {
    const w = 'Mon-Fri 22:00-06:00 Europe/Berlin'

    it('is open Friday 23:00 Berlin until Saturday 06:00 Berlin', () => {
      expectOpen(w, '2026-01-09T22:00:00Z', '2026-01-10T05:00:00Z') // Fri 23:00
    })

    it('is open Saturday 05:00 Berlin because the window started on Friday', () => {
      expectOpen(w, '2026-01-10T04:00:00Z', '2026-01-10T05:00:00Z')
    })

    it('is closed Saturday 06:00 and 23:00 Berlin, next opening Monday 22:00 Berlin', () => {
      expectClosed(w, '2026-01-10T05:00:00Z', '2026-01-12T21:00:00Z')
      expectClosed(w, '2026-01-10T22:00:00Z', '2026-01-12T21:00:00Z')
    })

    it('is closed Monday 05:00 Berlin because Sunday is not listed', () => {
      expectClosed(w, '2026-01-12T04:00:00Z', '2026-01-12T21:00:00Z')
    })

    it('is open Tuesday 01:00 Berlin, in the window that started Monday', () => {
      expectOpen(w, '2026-01-13T00:00:00Z', '2026-01-13T05:00:00Z')
    })
  })

  it('treats a window that starts on its day only: Sat 22:00-02:00 covers Sun 01:00, not Sat 01:00', () => {
    const w = 'Sat 22:00-02:00 UTC'
    expectOpen(w, '2026-12-06T01:00:00Z', '2026-12-06T02:00:00Z') // Sun 01:00
    expectClosed(w, '2026-12-05T01:00:00Z', '2026-12-05T22:00:00Z') // Sat 01:00
  })

  it('opens every day for *', () => {
    const w = '* 09:00-17:00 UTC'
    for (const day of ['2026-12-06', '2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11', '2026-12-12']) {
      expectOpen(w, `${day}T10:00:00Z`, `${day}T17:00:00Z`)
    }
    expectClosed(w, '2026-12-09T18:00:00Z', '2026-12-10T09:00:00Z')
  })

  it('opens on each day of a list: Sat,Sun', () => {
    const w = 'Sat,Sun 10:00-12:00 UTC'
    expectOpen(w, '2026-12-05T11:00:00Z', '2026-12-05T12:00:00Z') // Sat
    expectOpen(w, '2026-12-06T11:00:00Z', '2026-12-06T12:00:00Z') // Sun
    expectClosed(w, '2026-12-07T11:00:00Z', '2026-12-12T10:00:00Z') // Mon → Sat
  })

  it('opens on every day of a wrapping range: Fri-Mon', () => {
    const w = 'Fri-Mon 10:00-12:00 UTC'
    for (const day of ['2026-12-04', '2026-12-05', '2026-12-06', '2026-12-07']) expectOpen(w, `${day}T11:00:00Z`, `${day}T12:00:00Z`)
    expectClosed(w, '2026-12-08T11:00:00Z', '2026-12-11T10:00:00Z') // Tue → Fri
    expectClosed(w, '2026-12-10T11:00:00Z', '2026-12-11T10:00:00Z') // Thu → Fri
  })

  describe('a list of windows', () => {
    const ws = ['Sat 10:00-12:00 UTC', 'Wed 01:00-02:00 America/New_York']

    it('is open when any window is', () => {
      expectOpen(ws, '2026-12-05T11:00:00Z', '2026-12-05T12:00:00Z', 'Sat 10:00-12:00 UTC')
      expectOpen(ws, '2026-12-09T06:30:00Z', '2026-12-09T07:00:00Z', 'Wed 01:00-02:00 America/New_York') // 01:30 EST
    })

    it('names the earliest next opening over all windows', () => {
      expectClosed(ws, '2026-12-06T00:00:00Z', '2026-12-09T06:00:00Z', 'Wed 01:00-02:00 America/New_York')
      expectClosed(ws, '2026-12-09T07:00:00Z', '2026-12-12T10:00:00Z', 'Sat 10:00-12:00 UTC')
    })

    it('reports the window that stays open longest when two overlap', () => {
      expectOpen(['* 00:00-23:00 UTC', 'Sat 10:00-12:00 UTC'], '2026-12-05T11:00:00Z', '2026-12-05T23:00:00Z', '* 00:00-23:00 UTC')
      expectOpen(['Sat 10:00-12:00 UTC', 'Sat 11:00-13:00 UTC'], '2026-12-05T11:30:00Z', '2026-12-05T13:00:00Z', 'Sat 11:00-13:00 UTC')
    })

    it('is closed with no next opening for an empty list', () => {
      expect(windowState([], at('2026-12-05T11:00:00Z'))).toEqual({ open: false, nextOpen: null, nextWindow: null })
    })
  })

  it('finds the next opening across the end of the week', () => {
    const w = 'Mon 01:00-02:00 UTC'
    expectClosed(w, '2026-12-05T12:00:00Z', '2026-12-07T01:00:00Z') // Sat → Mon
    expectClosed(w, '2026-12-07T02:00:00Z', '2026-12-14T01:00:00Z') // Mon just after → next Mon
    expectClosed('Sun 23:00-00:30 UTC', '2026-12-07T00:30:00Z', '2026-12-13T23:00:00Z')
  })

  it('behaves the same for UTC and Etc/UTC', () => {
    for (const zone of ['UTC', 'Etc/UTC']) {
      const w = `Sun 02:00-04:00 ${zone}`
      expectOpen(w, '2026-12-06T03:00:00Z', '2026-12-06T04:00:00Z')
      expectClosed(w, '2026-12-02T12:00:00Z', '2026-12-06T02:00:00Z')
    }
  })

  describe('America/New_York around DST changes', () => {
    it('on 2026-03-08 (spring forward at 02:00 EST) Sun 01:30-03:30 runs 06:30Z-07:30Z', () => {
      const w = 'Sun 01:30-03:30 America/New_York'
      expectClosed(w, '2026-03-08T06:29:59Z', '2026-03-08T06:30:00Z') // 01:29:59 EST
      expectOpen(w, '2026-03-08T06:30:00Z', '2026-03-08T07:30:00Z') // 01:30 EST
      expectOpen(w, '2026-03-08T07:15:00Z', '2026-03-08T07:30:00Z') // 03:15 EDT
      expectClosed(w, '2026-03-08T07:30:00Z', '2026-03-15T05:30:00Z') // 03:30 EDT; next Sunday 01:30 EDT
    })

    it('reads a start inside the gap (02:30 does not exist) as the first instant after it, 03:00 EDT', () => {
      const w = 'Sun 02:30-04:00 America/New_York'
      expectClosed(w, '2026-03-08T06:59:59Z', '2026-03-08T07:00:00Z')
      expectOpen(w, '2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z')
    })

    it('drops an occurrence that lies wholly inside the gap', () => {
      expectClosed('Sun 02:10-02:50 America/New_York', '2026-03-08T05:00:00Z', '2026-03-15T06:10:00Z')
    })

    it('on 2026-11-01 (fall back at 02:00 EDT) takes the first of the repeated 01:30s', () => {
      const w = 'Sun 01:30-02:30 America/New_York'
      expectClosed(w, '2026-11-01T05:29:59Z', '2026-11-01T05:30:00Z') // 01:29:59 EDT
      expectOpen(w, '2026-11-01T05:30:00Z', '2026-11-01T07:30:00Z') // 01:30 EDT until 02:30 EST
      expectOpen(w, '2026-11-01T06:45:00Z', '2026-11-01T07:30:00Z') // 01:45 EST, the second time round
    })

    it('ends a window at the first occurrence of a repeated end time', () => {
      expectOpen('Sun 00:30-01:30 America/New_York', '2026-11-01T05:00:00Z', '2026-11-01T05:30:00Z')
      expectClosed('Sun 00:30-01:30 America/New_York', '2026-11-01T05:30:00Z', '2026-11-08T05:30:00Z') // 00:30 EST
    })
  })

  it('keeps Berlin wall-clock times across its DST change (2026-03-29)', () => {
    const w = 'Sun 03:00-05:00 Europe/Berlin'
    expectClosed(w, '2026-03-28T12:00:00Z', '2026-03-29T01:00:00Z') // 03:00 CEST = 01:00Z
    expectClosed(w, '2026-03-21T12:00:00Z', '2026-03-22T02:00:00Z') // a week earlier, 03:00 CET = 02:00Z
  })
})

describe('describeWindowState', () => {
  it('names the window and the next opening in its own zone and in UTC', () => {
    expect(describeWindowState(parseWindows('Sun 02:00-04:00 UTC'), at('2026-12-02T12:00:00Z'))).toBe(
      'outside the maintenance window "Sun 02:00-04:00 UTC"; the next one opens 2026-12-06 02:00 UTC (Sun, 2026-12-06T02:00:00.000Z)',
    )
    expect(describeWindowState(parseWindows('Mon-Fri 22:00-06:00 Europe/Berlin'), at('2026-01-10T22:00:00Z'))).toBe(
      'outside the maintenance window "Mon-Fri 22:00-06:00 Europe/Berlin"; the next one opens 2026-01-12 22:00 Europe/Berlin (Mon, 2026-01-12T21:00:00.000Z)',
    )
  })

  it('lists every window and names the next one for a list', () => {
    expect(describeWindowState(parseWindows(['Sat 10:00-12:00 UTC', 'Wed 01:00-02:00 America/New_York']), at('2026-12-06T00:00:00Z'))).toBe(
      'outside every maintenance window ("Sat 10:00-12:00 UTC", "Wed 01:00-02:00 America/New_York"); the next one, "Wed 01:00-02:00 America/New_York", opens 2026-12-09 01:00 America/New_York (Wed, 2026-12-09T06:00:00.000Z)',
    )
  })

  it('says until when an open window lasts', () => {
    expect(describeWindowState(parseWindows('Mon-Fri 22:00-06:00 Europe/Berlin'), at('2026-01-09T22:00:00Z'))).toBe(
      'inside the maintenance window "Mon-Fri 22:00-06:00 Europe/Berlin" until 2026-01-10 06:00 Europe/Berlin (Sat, 2026-01-10T05:00:00.000Z)',
    )
  })

  it('says when nothing opens within the look-ahead', () => {
    expect(describeWindowState(parseWindows('Sun 02:10-02:50 America/New_York'), at('2026-03-02T00:00:00Z'))).toBe(
      'outside the maintenance window "Sun 02:10-02:50 America/New_York"; none opens within the next 8 days',
    )
  })
})

describe('maintenanceWindowRefusal', () => {
  const windows = parseWindows('Sun 02:00-04:00 UTC')

  it('refuses outside the window with E_POLICY (exit 3), naming the rule and the next opening', () => {
    const error = maintenanceWindowRefusal(windows, at('2026-12-02T12:00:00Z'), 'production')
    expect(error).toBeInstanceOf(StrataError)
    expect(error?.code).toBe('E_POLICY')
    expect(error?.exitCode).toBe(3)
    expect(error?.message).toBe(
      'environment `production` is outside the maintenance window "Sun 02:00-04:00 UTC"; the next one opens 2026-12-06 02:00 UTC (Sun, 2026-12-06T02:00:00.000Z)',
    )
    expect(error?.details).toMatchObject({ rule: 'maintenance_window', nextOpen: '2026-12-06T02:00:00.000Z' })
    expect(error?.hint).toBe("run again once the window opens at 2026-12-06T02:00:00.000Z, or widen the environment's maintenance_window policy")
  })

  it('allows a run inside the window or without windows', () => {
    expect(maintenanceWindowRefusal(windows, at('2026-12-06T03:00:00Z'), 'production')).toBeNull()
    expect(maintenanceWindowRefusal([], at('2026-12-02T12:00:00Z'), 'production')).toBeNull()
  })
})
