import type { RevisionNode } from '../../src/graph/index.js'

/** A revision node for graph tests; its file is `migrations/<revision>.ts`. */
export function node(revision: string, downRevisions: readonly string[] = [], extra: Partial<RevisionNode> = {}): RevisionNode {
  return { revision, downRevisions, dependsOn: [], branchLabels: [], file: `migrations/${revision}.ts`, ...extra }
}

export const applied = (...revisions: string[]): ReadonlySet<string> => new Set(revisions)
