import type { DatabaseUrl } from '../dialect.js'

/**
 * The client settings of a PostgreSQL URL. `?schema=NAME` is strata's own parameter (the schema
 * migrations run in, default the server's search_path); it is removed before the URL reaches
 * the client, which passes every other parameter (sslmode, …) through.
 */
export function postgresSettings(url: DatabaseUrl): { connectionString: string; schema: string | null } {
  const parsed = new URL(url.raw)
  const schema = parsed.searchParams.get('schema')
  parsed.searchParams.delete('schema')
  return { connectionString: parsed.toString(), schema }
}
