import type { RevisionNode } from './types.js'

/** "`002_x` (migrations/002_x.ts)", or "`002_x`" when the file is unknown. */
export function describeRevision(revision: string, file: string | undefined): string {
  return file === undefined ? `\`${revision}\`` : `\`${revision}\` (${file})`
}

/** A node described by {@link describeRevision}. */
export function describeNode(node: RevisionNode): string {
  return describeRevision(node.revision, node.file)
}

/** Where to look revisions up for messages. */
export interface RevisionLookup {
  readonly indexOf: ReadonlyMap<string, number>
  readonly nodes: readonly RevisionNode[]
}

/** "`a` (f1), `b` (f2)": at most `limit` revisions, then "and N more". */
export function listRevisions(
  revisions: readonly string[],
  lookup: RevisionLookup,
  limit = 10,
): string {
  const shown = revisions.slice(0, limit).map((revision) => {
    const index = lookup.indexOf.get(revision)
    const node = index === undefined ? undefined : lookup.nodes[index]
    return describeRevision(revision, node?.file)
  })
  const more = revisions.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ')
}
