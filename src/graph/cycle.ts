import type { OrderingEdges } from './traversal.js'

/**
 * One cycle among the revisions Kahn's algorithm could not order, as indexes
 * where each is built on (names as parent or dependency) the next and the last
 * on the first. Every unordered revision waits on another unordered one, so
 * walking "built on" edges through them must come back to itself.
 */
export function findCycle(size: number, edges: OrderingEdges, order: readonly number[]): number[] {
  const ordered = new Uint8Array(size)
  for (const index of order) ordered[index] = 1
  const positionOnPath = new Int32Array(size).fill(-1)
  const path: number[] = []
  let current = ordered.indexOf(0)
  while (current !== -1 && positionOnPath[current] === -1) {
    positionOnPath[current] = path.length
    path.push(current)
    current = nextUnordered(current, edges, ordered)
  }
  return current === -1 ? path : path.slice(positionOnPath[current])
}

function nextUnordered(index: number, edges: OrderingEdges, ordered: Uint8Array): number {
  for (const adjacency of edges.before) {
    for (const other of adjacency[index] ?? []) if (ordered[other] === 0) return other
  }
  return -1
}
