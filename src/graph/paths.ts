import { StrataError } from '../errors/index.js'
import { listRevisions } from './describe.js'
import type { GraphIndex } from './graph-index.js'
import { marked, orderMembers, reach } from './traversal.js'

/**
 * Upgrade and downgrade paths over indexes (SPEC S2, Alembic's rules). The
 * `applied` masks hold 1 for every applied revision the graph knows.
 */

/** The applied set as a mask over indexes; ids the graph does not know are dropped. */
export function appliedMask(index: GraphIndex, applied: ReadonlySet<string>): Uint8Array {
  const mask = new Uint8Array(index.size)
  for (const revision of applied) {
    const position = index.indexOf.get(revision)
    if (position !== undefined) mask[position] = 1
  }
  return mask
}

/**
 * Members that no member names as a downRevision, ascending. Over the applied
 * mask: the database's current heads.
 */
export function headsWithin(index: GraphIndex, members: Uint8Array): number[] {
  return tips(index, members, false)
}

/**
 * Members that no member names as a downRevision or in dependsOn, ascending.
 * Over the applied mask: where relative targets start, since a revision that
 * another one depends on is implied by it (Alembic's normalised heads, #1373).
 */
export function tipsWithin(index: GraphIndex, members: Uint8Array): number[] {
  return tips(index, members, true)
}

function tips(index: GraphIndex, members: Uint8Array, includeDependencies: boolean): number[] {
  const covered = new Uint8Array(index.size)
  for (let position = 0; position < index.size; position += 1) {
    if (members[position] !== 1) continue
    for (const parent of index.parents[position] ?? []) covered[parent] = 1
    if (!includeDependencies) continue
    for (const dependency of index.dependencies[position] ?? []) covered[dependency] = 1
  }
  const result: number[] = []
  for (let position = 0; position < index.size; position += 1) {
    if (members[position] === 1 && covered[position] === 0) result.push(position)
  }
  return result
}

/** Unapplied ancestors of `targets` (and the targets) in upgrade order. */
export function upgradeOrder(
  index: GraphIndex,
  targets: readonly number[],
  applied: Uint8Array,
): number[] {
  const pending = reach(index.size, targets, [index.parents, index.dependencies])
  for (let position = 0; position < index.size; position += 1) {
    if (applied[position] === 1) pending[position] = 0
  }
  return orderMembers(pending, index.ordering)
}

/**
 * Revisions to revert so that every target stays applied: applied strict
 * descendants of the targets through downRevisions, minus whatever the
 * targets need; then {@link revertOrder}. `what` names the command's target
 * in errors.
 */
export function downgradeOrder(
  index: GraphIndex,
  targets: readonly number[],
  applied: Uint8Array,
  what: string,
): number[] {
  const notApplied = targets.filter((target) => applied[target] !== 1)
  if (notApplied.length > 0) {
    const ids = notApplied.map((target) => index.ids[target] as string)
    const heads = headsWithin(index, applied).map((head) => index.ids[head] as string)
    throw new StrataError(
      'E_UNKNOWN_REVISION',
      `Cannot downgrade to \`${what}\`: ${listRevisions(ids, index)} ${ids.length === 1 ? 'is' : 'are'} not applied (current heads: ${heads.length === 0 ? 'none' : listRevisions(heads, index)})`,
      {
        target: what,
        revisions: ids,
        heads,
        hint: '`down` keeps its target: name an applied revision (see `strata status`)',
      },
    )
  }
  const keep = reach(index.size, targets, [index.parents, index.dependencies])
  const below = reach(index.size, targets, [index.children])
  const initial = new Uint8Array(index.size)
  for (let position = 0; position < index.size; position += 1) {
    if (below[position] === 1 && keep[position] === 0 && applied[position] === 1)
      initial[position] = 1
  }
  return revertOrder(index, initial, applied)
}

/**
 * Every applied revision reachable from `initial` through children and
 * dependents (a revision whose parent or dependency is reverted goes too),
 * children first: the exact reverse of the order `up` would apply them.
 */
export function revertOrder(index: GraphIndex, initial: Uint8Array, applied: Uint8Array): number[] {
  const reverted = reach(index.size, marked(initial), [index.children, index.dependents])
  for (let position = 0; position < index.size; position += 1) {
    if (applied[position] !== 1) reverted[position] = 0
  }
  return orderMembers(reverted, index.ordering).reverse()
}

/**
 * Walks `steps` steps down from `start` through downRevisions. A revision is
 * passed when its longest distance from `start` is below `steps`, so passing a
 * revision passes everything between it and `start` (at a merge point both
 * parents are one step down). Returns the passed revisions as a mask; more
 * steps than the depth of `start` (its longest path to a base, plus one) is
 * `E_UNKNOWN_REVISION`.
 */
export function stepDown(
  index: GraphIndex,
  start: number,
  steps: number,
  what: string,
): Uint8Array {
  const ancestors = reach(index.size, [start], [index.parents])
  const distance = new Int32Array(index.size).fill(-1)
  distance[start] = 0
  let depth = 0
  for (let position = index.order.length - 1; position >= 0; position -= 1) {
    const current = index.order[position] as number
    if (ancestors[current] !== 1 || current === start) continue
    let longest = -1
    for (const child of index.children[current] ?? []) {
      const through = ancestors[child] === 1 ? (distance[child] as number) : -1
      if (through >= 0 && through + 1 > longest) longest = through + 1
    }
    distance[current] = longest
    if (longest > depth) depth = longest
  }
  if (steps > depth + 1) {
    throw new StrataError(
      'E_UNKNOWN_REVISION',
      `Relative target \`${what}\` cannot take ${steps} steps down from ${listRevisions([index.ids[start] as string], index)}: it is ${depth + 1} ${depth === 0 ? 'step' : 'steps'} above base`,
      { target: what, revision: index.ids[start], depth: depth + 1 },
    )
  }
  const passed = new Uint8Array(index.size)
  for (let position = 0; position < index.size; position += 1) {
    const reached = distance[position] as number
    if (reached >= 0 && reached < steps) passed[position] = 1
  }
  return passed
}
