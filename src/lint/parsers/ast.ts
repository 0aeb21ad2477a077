/**
 * Safe reads of a parser's JSON syntax tree. The trees come from two third-party parsers whose
 * shapes vary by dialect and version, so they are read as plain JSON: a missing or unexpected
 * field reads as absent rather than throwing.
 */
export type Json = unknown

/** The object at `value`, or undefined when it is not a (non-array) object. */
export function obj(value: Json): Record<string, Json> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, Json>) : undefined
}

/** The field `name` of `value` (undefined when `value` is not an object). */
export function get(value: Json, ...path: string[]): Json {
  let current = value
  for (const name of path) current = obj(current)?.[name]
  return current
}

export function list(value: Json): Json[] {
  return Array.isArray(value) ? value : []
}

export function text(value: Json): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** The single key of a `{ Kind: {...} }` node (libpg-query's node encoding) and its body. */
export function tagged(value: Json): [string, Record<string, Json>] | undefined {
  const o = obj(value)
  if (!o) return undefined
  const [kind] = Object.keys(o)
  if (kind === undefined) return undefined
  const body = obj(o[kind])
  return body ? [kind, body] : [kind, {}]
}
