/**
 * Iterative graph walks over revision indexes. Nothing here recurses, so a
 * 10,000-revision chain cannot overflow the stack. Indexes are ranks in
 * revision-id order, so "smallest index first" is "ties broken by revision id".
 */

/** Adjacency lists by revision index. */
export type Adjacency = readonly (readonly number[])[]

/** A binary min-heap of revision indexes. */
export class MinHeap {
  readonly #items: number[] = []

  get size(): number {
    return this.#items.length
  }

  push(value: number): void {
    const items = this.#items
    let position = items.length
    items.push(value)
    while (position > 0) {
      const parent = (position - 1) >> 1
      const parentValue = items[parent] as number
      if (parentValue <= value) break
      items[position] = parentValue
      position = parent
    }
    items[position] = value
  }

  pop(): number | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let position = 0
    for (;;) {
      const left = position * 2 + 1
      if (left >= items.length) break
      const right = left + 1
      const leftValue = items[left] as number
      const smaller = right < items.length && (items[right] as number) < leftValue ? right : left
      const smallerValue = items[smaller] as number
      if (smallerValue >= last) break
      items[position] = smallerValue
      position = smaller
    }
    items[position] = last
    return top
  }
}

/** Marks every index reachable from `starts` (included) through any of `edges`. */
export function reach(
  size: number,
  starts: Iterable<number>,
  edges: readonly Adjacency[],
): Uint8Array {
  const seen = new Uint8Array(size)
  const stack: number[] = []
  for (const start of starts) {
    if (seen[start] === 1) continue
    seen[start] = 1
    stack.push(start)
  }
  while (stack.length > 0) {
    const current = stack.pop() as number
    for (const adjacency of edges) {
      for (const next of adjacency[current] ?? []) {
        if (seen[next] === 1) continue
        seen[next] = 1
        stack.push(next)
      }
    }
  }
  return seen
}

/** The indexes whose mark is set, ascending. */
export function marked(mask: Uint8Array): number[] {
  const result: number[] = []
  for (let index = 0; index < mask.length; index += 1) if (mask[index] === 1) result.push(index)
  return result
}

/** Edges of the whole graph that an ordering must respect: before → after. */
export interface OrderingEdges {
  /** Revisions each revision needs first (its parents and dependencies). */
  readonly before: readonly Adjacency[]
  /** Revisions that need each revision first (its children and dependents). */
  readonly after: readonly Adjacency[]
}

/**
 * Kahn's algorithm over the revisions marked in `members`, ignoring edges to
 * revisions outside it, smallest index first among the ready ones. Returns
 * fewer indexes than members when the members contain a cycle.
 */
export function orderMembers(members: Uint8Array, edges: OrderingEdges): number[] {
  const waiting = new Int32Array(members.length)
  const ready = new MinHeap()
  for (let index = 0; index < members.length; index += 1) {
    if (members[index] !== 1) continue
    let needs = 0
    for (const adjacency of edges.before) {
      for (const other of adjacency[index] ?? []) if (members[other] === 1) needs += 1
    }
    waiting[index] = needs
    if (needs === 0) ready.push(index)
  }
  const order: number[] = []
  while (ready.size > 0) {
    const current = ready.pop() as number
    order.push(current)
    for (const adjacency of edges.after) {
      for (const next of adjacency[current] ?? []) {
        if (members[next] !== 1) continue
        const left = (waiting[next] as number) - 1
        waiting[next] = left
        if (left === 0) ready.push(next)
      }
    }
  }
  return order
}
