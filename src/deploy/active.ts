import { existsSync } from 'node:fs'
import type { ResolvedConfig } from '../config/load-config.js'
import { loadDialect } from '../dialects/registry.js'
import { PointerStore, urlAt, type Pointer } from './pointer.js'

/**
 * The configuration as the environment stands after blue-green deploys (SPEC S10): when the
 * configured database holds a pointer, every command works on the database it points at. An
 * unreachable database is left for the command's own connection to report.
 */
export async function activeConfig(config: ResolvedConfig): Promise<ResolvedConfig> {
  const pointer = await readPointer(config)
  return pointer ? { ...config, url: urlAt(config.url, pointer.active) } : config
}

/** The pointer in the configured ("home") database, or null (none, no table, no file, no answer). */
export async function readPointer(config: ResolvedConfig): Promise<Pointer | null> {
  const { url } = config
  if (url.dialect === 'mysql') return null
  if (url.dialect === 'sqlite' && (url.path === undefined || url.path === ':memory:' || !existsSync(url.path))) return null
  const dialect = await loadDialect(url.dialect)
  const conn = await dialect.connect(url, { create: false }).catch(() => null)
  if (!conn) return null
  try {
    return await new PointerStore(dialect, config.tablePrefix).read(conn).catch(() => null)
  } finally {
    await conn.close().catch(() => {})
  }
}
