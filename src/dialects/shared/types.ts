/**
 * The portable column types of SPEC S3 and their parsing. Each compiler supplies a
 * `TypeRenderer` (one entry per portable kind, so a new kind fails to compile until every
 * dialect maps it); any other type is engine-specific and passed through as written.
 */
/** A portable type of SPEC S3, with its length / precision arguments. */
export type PortableType =
  | { readonly kind: 'integer' }
  | { readonly kind: 'bigint' }
  | { readonly kind: 'text' }
  | { readonly kind: 'varchar'; readonly length?: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'real' }
  | { readonly kind: 'numeric'; readonly precision?: number; readonly scale?: number }
  | { readonly kind: 'date' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'json' }
  | { readonly kind: 'blob' }
  | { readonly kind: 'uuid' }

/** The names of the portable types. */
export type PortableKind = PortableType['kind']

/** How one dialect writes each portable type. */
export type TypeRenderer = {
  readonly [K in PortableKind]: (type: Extract<PortableType, { kind: K }>) => string
}

const PLAIN: ReadonlySet<string> = new Set(['integer', 'bigint', 'text', 'boolean', 'real', 'date', 'timestamp', 'json', 'blob', 'uuid'])

/** `name` or `name(a)` or `name(a, b)`, with free spacing; the whole type name only. */
const SHAPE = /^\s*([a-z]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/i

/** The portable type `type` names, or undefined for an engine-specific type. */
export function parsePortableType(type: string): PortableType | undefined {
  const match = SHAPE.exec(type)
  if (!match) return undefined
  const kind = match[1]!.toLowerCase()
  const first = match[2] === undefined ? undefined : Number(match[2])
  const second = match[3] === undefined ? undefined : Number(match[3])
  if (kind === 'varchar' && second === undefined) return first === undefined ? { kind } : { kind, length: first }
  if (kind === 'numeric') {
    if (first === undefined) return { kind }
    return second === undefined ? { kind, precision: first } : { kind, precision: first, scale: second }
  }
  if (PLAIN.has(kind) && first === undefined) return { kind } as PortableType
  return undefined
}

/** Renders a column type: portable types through `renderer`, anything else unchanged (trimmed). */
export function renderType(type: string, renderer: TypeRenderer): string {
  const portable = parsePortableType(type)
  if (!portable) return type.trim()
  const render = renderer[portable.kind] as (type: PortableType) => string
  return render(portable)
}

/** `(p)` / `(p,s)` / empty, for numeric-like types. */
export function precisionSuffix(precision?: number, scale?: number): string {
  if (precision === undefined) return ''
  return scale === undefined ? `(${precision})` : `(${precision},${scale})`
}
