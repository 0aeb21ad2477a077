/**
 * Masks credentials in URLs and connection strings before anything is printed,
 * logged or recorded (SPEC S16).
 */
export function redact(text: string): string {
  // Each pattern runs only on text holding what it needs to match: most text holds neither (a
  // run's record has its author's `user@host` and no URL).
  let masked = text
  // `://user:password@`, whatever the scheme before it: a pattern starting at the scheme would try
  // every letter of a long text as the start of one.
  if (text.includes('://') && text.includes('@')) masked = masked.replace(/(:\/\/[^:/?#@\s]*:)([^@/\s]+)@/g, '$1****@')
  // No leading word pattern: `PGPASSWORD=` matches at `PASSWORD=`, in one pass over the text
  // (a lazy \w* before the name would rescan every long word, quadratic on a large message).
  if (text.includes('=')) masked = masked.replace(/(password|passwd|pwd|secret|token|api[_-]?key)=([^&\s;'"]+)/gi, '$1=****')
  return masked
}

/**
 * Every string inside a value (objects, arrays) with credentials masked: for what is stored or
 * shared whole. A value with nothing to mask is returned as it is, checked in one pass over its
 * JSON text (a run's report holds thousands of strings, and nearly never a credential).
 */
export function redactDeep<T>(value: T): T {
  return value !== null && typeof value === 'object' ? redactJson(value).value : redactStrings(value)
}

/**
 * `value` with credentials masked, as redactDeep gives it, and its JSON text (`space` as
 * JSON.stringify takes it): serialized once when there is nothing to mask, which is nearly always.
 */
export function redactJson<T>(value: T, space?: number): { value: T; json: string } {
  const json = JSON.stringify(value, null, space)
  if (json === undefined || redact(json) === json) return { value, json }
  const safe = redactStrings(value)
  return { value: safe, json: JSON.stringify(safe, null, space) }
}

function redactStrings<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item)])) as T
  }
  return value
}
