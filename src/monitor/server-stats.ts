import type { Connection } from '../dialects/dialect.js'
import type { ServerStats } from './metrics.js'

const POSTGRES_STATS_SQL =
  'SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections, ' +
  '(SELECT count(*) FROM pg_locks WHERE NOT granted) AS lock_waits'
const MYSQL_CONNECTIONS_SQL = "SHOW GLOBAL STATUS LIKE 'Threads_connected'"
const MYSQL_LOCK_WAITS_SQL = "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"

/**
 * The server figures of a metrics sample (SPEC S8), read on `conn`, a session of their own.
 * PostgreSQL: sessions on the current database (pg_stat_activity) and lock requests not granted
 * (pg_locks). MySQL/MariaDB: `Threads_connected`, and InnoDB transactions in `LOCK WAIT` where
 * information_schema.INNODB_TRX is readable (null otherwise, and not asked again). Calls made while
 * one is running share its answer, so the session never runs two queries at once.
 */
export function serverStatsQuery(dialect: 'postgres' | 'mysql', conn: Connection): () => Promise<ServerStats> {
  const read = dialect === 'postgres' ? () => postgresStats(conn) : mysqlStats(conn)
  let pending: Promise<ServerStats> | null = null
  return () =>
    (pending ??= read().finally(() => {
      pending = null
    }))
}

async function postgresStats(conn: Connection): Promise<ServerStats> {
  const [row] = await conn.query<{ connections: unknown; lock_waits: unknown }>({ sql: POSTGRES_STATS_SQL, params: [] })
  return { connections: count(row?.connections), lockWaits: count(row?.lock_waits) }
}

function mysqlStats(conn: Connection): () => Promise<ServerStats> {
  let lockWaitsReadable = true
  return async () => {
    const rows = await conn.query<{ Variable_name?: unknown; Value?: unknown }>({ sql: MYSQL_CONNECTIONS_SQL, params: [] })
    const connections = count(rows[0]?.Value)
    let lockWaits: number | null = null
    if (lockWaitsReadable) {
      try {
        const [row] = await conn.query<{ n: unknown }>({ sql: MYSQL_LOCK_WAITS_SQL, params: [] })
        lockWaits = count(row?.n)
      } catch {
        lockWaitsReadable = false // no PROCESS privilege, or an engine without the table
      }
    }
    return { connections, lockWaits }
  }
}

function count(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'bigint' ? Number(value) : Number.NaN
  return Number.isFinite(n) && n >= 0 ? n : null
}
