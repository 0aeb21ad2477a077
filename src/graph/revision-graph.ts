import { StrataError } from '../errors/index.js'
import { buildIndex, type GraphIndex } from './graph-index.js'
import { appliedMask, downgradeOrder, headsWithin, revertOrder, upgradeOrder } from './paths.js'
import { currentRelativeStep, resolveTarget, revertSteps } from './targets.js'
import { marked, reach } from './traversal.js'
import type { AncestorOptions, RevisionGraph, RevisionNode } from './types.js'

/**
 * Builds and validates the revision graph (alembic `RevisionMap`). Throws,
 * before anything runs, a `StrataError` naming the files involved:
 * `E_MIGRATION_FILE` (an invalid revision id or branch label),
 * `E_GRAPH_DUPLICATE` (a revision id defined twice, a branch label used twice
 * or equal to a revision id), `E_GRAPH_MISSING_PARENT` (a downRevision or
 * dependsOn naming nothing), `E_MULTIPLE_HEADS` (a dependsOn `X@head` whose
 * branch forks) and `E_GRAPH_CYCLE` (`details.revisions` lists the cycle).
 *
 * @example
 * const graph = buildGraph([
 *   { revision: '001_init', downRevisions: [], dependsOn: [], branchLabels: [] },
 *   { revision: '002_users', downRevisions: ['001_init'], dependsOn: [], branchLabels: [] },
 * ])
 * graph.upgradePath(new Set(['001_init']), 'head') // ['002_users']
 */
export function buildGraph(nodes: readonly RevisionNode[]): RevisionGraph {
  return new IndexedRevisionGraph(buildIndex(nodes))
}

class IndexedRevisionGraph implements RevisionGraph {
  readonly #index: GraphIndex
  readonly heads: readonly string[]
  readonly bases: readonly string[]
  readonly ordered: readonly string[]

  constructor(index: GraphIndex) {
    this.#index = index
    this.heads = this.#ids(headsWithin(index, new Uint8Array(index.size).fill(1)))
    this.bases = Object.freeze(
      index.ids.filter((_, position) => (index.parents[position] ?? []).length === 0),
    )
    this.ordered = this.#ids(index.order)
  }

  get size(): number {
    return this.#index.size
  }

  has(revision: string): boolean {
    return this.#index.indexOf.has(revision)
  }

  get(revision: string): RevisionNode {
    return this.#index.nodes[this.#position(revision)] as RevisionNode
  }

  dependenciesOf(revision: string): readonly string[] {
    return this.#ids(this.#index.dependencies[this.#position(revision)] ?? [])
  }

  resolve(target: string, applied: ReadonlySet<string> = new Set()): readonly string[] {
    return this.#ids(resolveTarget(this.#index, target, appliedMask(this.#index, applied)))
  }

  currentHeads(applied: ReadonlySet<string>): readonly string[] {
    return this.#ids(headsWithin(this.#index, appliedMask(this.#index, applied)))
  }

  upgradePath(applied: ReadonlySet<string>, target: string): readonly string[] {
    if (currentRelativeStep(target)?.direction === 'down') {
      throw new StrataError(
        'E_USAGE',
        `Target \`${target}\` moves down; \`up\` only applies revisions`,
        {
          target,
          hint: `run \`strata down ${target}\` to revert revisions`,
        },
      )
    }
    const mask = appliedMask(this.#index, applied)
    return this.#ids(upgradeOrder(this.#index, resolveTarget(this.#index, target, mask), mask))
  }

  downgradePath(applied: ReadonlySet<string>, target: string): readonly string[] {
    const mask = appliedMask(this.#index, applied)
    const relative = currentRelativeStep(target)
    if (relative?.direction === 'up') {
      throw new StrataError(
        'E_USAGE',
        `Target \`${target}\` moves up; \`down\` only reverts revisions`,
        {
          target,
          hint: `run \`strata up ${target}\` to apply revisions`,
        },
      )
    }
    if (relative !== undefined)
      return this.#ids(revertSteps(this.#index, relative.steps, mask, target))
    if (target === 'base') return this.#ids(revertOrder(this.#index, mask, mask))
    const targets = resolveTarget(this.#index, target, mask)
    return this.#ids(downgradeOrder(this.#index, targets, mask, target))
  }

  ancestors(revision: string, options: AncestorOptions = {}): ReadonlySet<string> {
    const index = this.#index
    const edges =
      options.includeDependsOn === true ? [index.parents, index.dependencies] : [index.parents]
    return this.#strict(revision, edges)
  }

  descendants(revision: string): ReadonlySet<string> {
    return this.#strict(revision, [this.#index.children])
  }

  #strict(revision: string, edges: Parameters<typeof reach>[2]): ReadonlySet<string> {
    const start = this.#position(revision)
    const reached = reach(this.#index.size, [start], edges)
    reached[start] = 0
    return new Set(this.#ids(marked(reached)))
  }

  #position(revision: string): number {
    const position = this.#index.indexOf.get(revision)
    if (position !== undefined) return position
    throw new StrataError('E_UNKNOWN_REVISION', `Revision \`${revision}\` does not exist`, {
      revision,
    })
  }

  #ids(positions: readonly number[]): readonly string[] {
    return Object.freeze(positions.map((position) => this.#index.ids[position] as string))
  }
}
