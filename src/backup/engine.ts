import type { DatabaseUrl } from '../dialects/dialect.js'

/**
 * Rows per table, keyed by table name. Engines with schemas key tables outside the URL's schema
 * as `schema.table`; every engine keys the same table the same way in `create`, `inspect`,
 * `restore` and `live`, so manifests compare key by key.
 */
export type RowCounts = Readonly<Record<string, number>>

/** What a copy (or the live database) holds, as read from one consistent snapshot. */
export interface CopyFacts {
  readonly rowCounts: RowCounts
  /** `ok`, or the engine's integrity report (first lines). */
  readonly integrity: string
}

/**
 * One engine's backups (SPEC S5). Engines write and read files and talk to the database; the
 * manifest, checksums, file modes, ids and retention belong to the backup store, not here.
 */
export interface BackupEngine {
  /** Extension of the copy's file: `.db` (SQLite database), `.dump` (pg_dump -Fc), `.sql` (mysqldump). */
  readonly extension: string
  /** The format named in the manifest: `sqlite`, `pg_dump-custom`, `mysqldump-sql`. */
  readonly format: string
  /** The client programs it runs, each as the names that will do (`['mysqldump', 'mariadb-dump']`). */
  readonly programs?: readonly (readonly string[])[]
  /** Bytes a copy of the live database will take, at most (the preflight disk-space check). */
  estimateSize(url: DatabaseUrl): Promise<number>
  /**
   * Writes a consistent copy of the database to `file`, which does not exist yet; the engine
   * creates it with mode 0600. Returns the facts of exactly what the copy holds, or null when
   * the copy describes itself and `inspect` reads them from it (SQLite, so that the store can
   * hash the file while the engine reads it).
   */
  create(url: DatabaseUrl, file: string): Promise<CopyFacts | null>
  /**
   * Reads a copy back: its integrity and row counts, from the copy itself (SQLite opens it
   * read-only; the servers restore it into a scratch database, dropped afterwards).
   */
  inspect(url: DatabaseUrl, file: string): Promise<CopyFacts>
  /**
   * Replaces the live database with the copy, atomically: a failure part-way leaves the live
   * database as it was. The caller holds the migration lock and has verified the copy.
   */
  restore(url: DatabaseUrl, file: string): Promise<void>
  /** The live database's facts now (after a restore, and for pre-run state checks). */
  live(url: DatabaseUrl): Promise<CopyFacts>
}
