import { createHash } from 'node:crypto'
import { mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheDir } from '../../util/cache-dir.js'
import type { ParseResult, ParserFlavor, SqlParser } from './index.js'

/** At most this many statements are remembered per grammar; the oldest go first. */
const MAX_ENTRIES = 50_000

/**
 * Remembers what the parser made of each statement text, on disk, per user: a statement's facts
 * depend on its text and the parser alone, and the SQL parsers read a few thousand statements a
 * second, which a preflight over hundreds of pending migrations would feel on every `up`. The
 * file's name carries the identity of the bundle this module is part of (its content-hashed
 * chunk), so a strata with other lint code never reads another's entries.
 */
export function withParseCache(parser: SqlParser, flavor: ParserFlavor, environ: NodeJS.ProcessEnv = process.env): SqlParser {
  const file = cacheFile(`facts-${flavor}`, environ)
  if (!file) return parser
  const entries = load(file)
  let dirty = false
  return {
    name: parser.name,
    parse(sql) {
      const key = createHash('sha256').update(sql).digest('base64url')
      const known = entries.get(key)
      if (known) return known
      const result = parser.parse(sql)
      entries.set(key, result)
      dirty = true
      return result
    },
    flush() {
      if (!dirty) return
      dirty = false
      save(file, entries)
    },
  }
}

/**
 * A small keyed store beside the parse cache, for whole lint results (`lint-findings-…`):
 * `get(key)` / `set(key, value)`, then `flush()` once. Null when no cache folder can be used.
 */
export function keyedCache<T>(name: string, environ: NodeJS.ProcessEnv = process.env, limit = 200): { get(key: string): T | undefined; set(key: string, value: T): void; flush(): void } | null {
  const file = cacheFile(name, environ)
  if (!file) return null
  const entries = load(file) as unknown as Map<string, T>
  let dirty = false
  return {
    get: (key) => entries.get(key),
    set(key, value) {
      entries.delete(key)
      entries.set(key, value)
      dirty = true
    },
    flush() {
      if (dirty) save(file, entries as unknown as Map<string, ParseResult>, limit)
      dirty = false
    },
  }
}

function cacheFile(flavor: string, environ: NodeJS.ProcessEnv): string | null {
  const base = cacheDir(environ)
  if (!base) return null
  let identity: string
  try {
    const self = fileURLToPath(import.meta.url)
    // Run from source (our own unit tests), the code lint runs is many files: no cache.
    if (self.endsWith('.ts')) return null
    const stats = statSync(self)
    identity = createHash('sha256').update(`${self}\0${stats.size}\0${stats.mtimeMs}`).digest('hex').slice(0, 16)
  } catch {
    return null
  }
  return join(base, `lint-${flavor}-${identity}.json`)
}

function load(file: string): Map<string, ParseResult> {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, ParseResult>))
  } catch {
    return new Map()
  }
}

/** Writes the cache 0600 in a 0700 folder, atomically; a cache that cannot be written is skipped. */
function save(file: string, entries: Map<string, ParseResult>, limit = MAX_ENTRIES): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 })
    const kept = [...entries].slice(-limit)
    const temp = `${file}.${process.pid}.tmp`
    const fd = openSync(temp, 'w', 0o600)
    try {
      writeSync(fd, JSON.stringify(Object.fromEntries(kept)))
    } finally {
      closeSync(fd)
    }
    renameSync(temp, file)
  } catch {
    // A read-only home or a full disk costs speed, never a lint result.
  }
}
