import type { Connection, Statement } from '../dialect.js'

/**
 * Rows of a query on a table that may not exist yet; null when it does not. A failed query is
 * told apart from a missing table by a trivial one: when that fails too, the session is gone and
 * the original error is thrown.
 */
export async function rowsIfTable<Row>(conn: Connection, stmt: Statement): Promise<Row[] | null> {
  try {
    return await conn.query<Row>(stmt)
  } catch (error) {
    await conn.query({ sql: 'SELECT 1', params: [] }).catch(() => {
      throw error
    })
    return null
  }
}
