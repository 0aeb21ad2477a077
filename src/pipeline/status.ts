import { readFileSync } from 'node:fs'
import type { Connection } from '../dialects/dialect.js'
import type { AppliedRevision, RevisionState } from '../history/history-store.js'
import { checksumFor } from '../loader/checksum.js'
import type { MigrationDef } from '../loader/migration.js'
import { diffSchemas, type SchemaChange } from '../schema/diff.js'
import { snapshotJson } from '../schema/fingerprint.js'
import type { SchemaSnapshot } from '../schema/snapshot.js'
import type { Project } from './session.js'

/** `status --json` (SPEC S12), exactly this shape. */
export interface StatusReport {
  readonly environment: string | null
  readonly database: { readonly dialect: string; readonly url: string }
  readonly applied: ReadonlyArray<{ revision: string; appliedAt: string; checksum: string; state: RevisionState }>
  readonly current: readonly string[]
  readonly heads: readonly string[]
  readonly pending: readonly string[]
  readonly modified: readonly string[]
  readonly missing: readonly string[]
  readonly drift: { readonly objects: readonly SchemaChange[] } | null
}

/** The applied set compared with the files: what is applied, pending, modified or missing. */
export interface Comparison {
  readonly applied: readonly AppliedRevision[]
  readonly appliedSet: ReadonlySet<string>
  readonly modified: readonly string[]
  readonly missing: readonly string[]
  readonly dirty: readonly string[]
  /** Dirty revisions with checkpoints: the next `up` resumes them instead of refusing (SPEC S7). */
  readonly resumable: readonly string[]
  /** Expand/contract revisions waiting for `strata complete` or `strata abort` (SPEC S7). */
  readonly expanded: ReadonlySet<string>
}

export async function compare(project: Project, conn: Connection): Promise<Comparison> {
  const applied = await project.history.applied(conn)
  const dirty = applied.filter((r) => r.state === 'dirty').map((r) => r.revision)
  const checkpointed = dirty.length > 0 ? await project.history.resumable(conn) : new Set<string>()
  const resumable = dirty.filter((r) => checkpointed.has(r))
  const modified: string[] = []
  const missing: string[] = []
  for (const row of applied) {
    const def = project.migrations.get(row.revision)
    if (!def) missing.push(row.revision)
    // A resumable revision is not applied yet: the fix of what stopped it may be in its file,
    // and the run that finishes it stores the file's checksum.
    else if (!resumable.includes(row.revision) && !sameChecksum(row, def)) modified.push(row.revision)
  }
  return {
    applied,
    appliedSet: new Set(applied.filter((r) => project.migrations.has(r.revision) && !resumable.includes(r.revision)).map((r) => r.revision)),
    modified,
    missing,
    dirty,
    resumable,
    expanded: new Set(applied.filter((r) => r.state === 'expanded').map((r) => r.revision)),
  }
}

/** Compares with the rule version the checksum was stored under, so a rule change never invalidates it. */
function sameChecksum(row: AppliedRevision, def: MigrationDef): boolean {
  if (row.checksumVersion === def.file.checksumVersion) return row.checksum === def.file.checksum
  const texts = [readFileSync(def.file.path, 'utf8')]
  return checksumFor(row.checksumVersion, texts.length === 1 ? texts[0]! : texts) === row.checksum
}

export async function computeStatus(project: Project, conn: Connection): Promise<StatusReport> {
  const comparison = await compare(project, conn)
  const { graph } = project
  return {
    environment: project.config.environment,
    database: { dialect: project.dialect.name, url: project.config.url.redacted },
    applied: comparison.applied.map((r) => ({ revision: r.revision, appliedAt: r.appliedAt, checksum: r.checksum, state: r.state })),
    current: graph.currentHeads(comparison.appliedSet),
    heads: graph.heads,
    pending: graph.ordered.filter((r) => !comparison.appliedSet.has(r) && !comparison.applied.some((a) => a.revision === r)),
    modified: comparison.modified,
    missing: comparison.missing,
    drift: await detectDrift(project, conn, comparison.applied),
  }
}

/**
 * Compares the live schema with the one recorded after the newest applied migration (SPEC S4);
 * null when they agree or nothing was recorded yet.
 */
export async function detectDrift(project: Project, conn: Connection, applied: readonly AppliedRevision[]): Promise<{ objects: SchemaChange[] } | null> {
  const newest = newestWithFingerprint(applied)
  if (!newest) return null
  const { dialect, config } = project
  if ((await dialect.catalogFingerprint(conn, config.tablePrefix)) === newest.fingerprint) return null
  const live = await dialect.introspect(conn, config.tablePrefix)
  const stored = await project.history.snapshotOf(conn, newest.revision)
  const before: SchemaSnapshot = stored ? (JSON.parse(stored) as SchemaSnapshot) : { tables: [], views: [], triggers: [] }
  const objects = diffSchemas(before, live)
  return objects.length > 0 ? { objects } : null
}

function newestWithFingerprint(applied: readonly AppliedRevision[]): AppliedRevision | undefined {
  let newest: AppliedRevision | undefined
  for (const row of applied) {
    if (row.fingerprint && (!newest || row.appliedAt >= newest.appliedAt)) newest = row
  }
  return newest
}

/** Records the live schema on the newest applied revision, as the baseline for drift. */
export async function recordSchema(project: Project, conn: Connection, introspected?: SchemaSnapshot): Promise<void> {
  const applied = await project.history.applied(conn)
  const newest = applied.at(-1)
  if (!newest) return
  const { dialect, config } = project
  const live = introspected ?? (await dialect.introspect(conn, config.tablePrefix))
  await project.history.setFingerprint(conn, newest.revision, await dialect.catalogFingerprint(conn, config.tablePrefix), snapshotJson(live))
}
