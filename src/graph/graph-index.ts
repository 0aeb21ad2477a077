import { StrataError } from '../errors/index.js'
import { describeNode as describe, listRevisions } from './describe.js'
import { marked, orderMembers, reach, type Adjacency, type OrderingEdges } from './traversal.js'
import type { RevisionNode } from './types.js'
import {
  checkDuplicates,
  checkIdentifier,
  throwCycle,
  throwMissing,
  type MissingReference,
} from './validation.js'

/**
 * The validated graph as arrays indexed by rank in revision-id order, so a
 * smaller index is a smaller id. Built once by {@link buildIndex}.
 */
export interface GraphIndex {
  readonly size: number
  /** Revision ids, sorted; `ids[index]`. */
  readonly ids: readonly string[]
  readonly nodes: readonly RevisionNode[]
  readonly indexOf: ReadonlyMap<string, number>
  /** Branch label → index of the revision that carries it. */
  readonly labelOwner: ReadonlyMap<string, number>
  readonly parents: Adjacency
  readonly children: Adjacency
  /** Resolved `dependsOn`. */
  readonly dependencies: Adjacency
  readonly dependents: Adjacency
  /** Parents and dependencies before children and dependents. */
  readonly ordering: OrderingEdges
  /** Every index in {@link OrderingEdges} order, ties broken by id. */
  readonly order: readonly number[]
}

/** Checks, indexes and orders revisions; throws the first kind of problem found, naming files. */
export function buildIndex(input: readonly RevisionNode[]): GraphIndex {
  for (const node of input) checkIdentifier('Revision id', node.revision, node)
  const nodes = [...input].sort((left, right) => compareIds(left.revision, right.revision))
  const ids = nodes.map((node) => node.revision)
  checkDuplicates(nodes)
  const indexOf = new Map(ids.map((id, index) => [id, index]))
  const labelOwner = indexLabels(nodes, indexOf)
  const missing: MissingReference[] = []
  const parents: number[][] = []
  for (const node of nodes) {
    parents.push(
      resolveEach(
        node.downRevisions,
        (parent) => indexOf.get(parent),
        (parent) => {
          missing.push({ node, reference: parent, message: `names parent \`${parent}\`` })
        },
      ),
    )
  }
  const children = invert(parents)
  const scope: DependencyScope = { indexOf, labelOwner, children, ids, nodes }
  const dependencies: number[][] = []
  for (const node of nodes) {
    dependencies.push(
      node.dependsOn.length === 0
        ? []
        : resolveEach(
            node.dependsOn,
            (entry) => resolveDependency(entry, node, scope),
            (entry) => {
              missing.push({ node, reference: entry, message: `depends on \`${entry}\`` })
            },
          ),
    )
  }
  if (missing.length > 0) throwMissing(missing)
  const dependents = invert(dependencies)
  const ordering: OrderingEdges = { before: [parents, dependencies], after: [children, dependents] }
  const order = orderMembers(new Uint8Array(nodes.length).fill(1), ordering)
  if (order.length < nodes.length) throwCycle(nodes, ordering, order)
  return {
    size: nodes.length,
    ids,
    nodes,
    indexOf,
    labelOwner,
    parents,
    children,
    dependencies,
    dependents,
    ordering,
    order,
  }
}

/** Orders revision ids by UTF-16 code units (ids are ASCII, so byte order too), never by locale. */
export function compareIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}

function indexLabels(
  nodes: readonly RevisionNode[],
  indexOf: ReadonlyMap<string, number>,
): Map<string, number> {
  const owner = new Map<string, number>()
  nodes.forEach((node, index) => {
    for (const label of new Set(node.branchLabels)) {
      checkIdentifier('Branch label', label, node)
      const other = owner.get(label)
      if (other !== undefined) {
        const first = nodes[other] as RevisionNode
        throw new StrataError(
          'E_GRAPH_DUPLICATE',
          `Branch label \`${label}\` is used by revision ${describe(first)} and by revision ${describe(node)}`,
          {
            label,
            revisions: [first.revision, node.revision],
            files: [first.file, node.file].filter((file) => file !== undefined),
            hint: 'give each branch a unique label',
          },
        )
      }
      const namesake = indexOf.get(label)
      if (namesake !== undefined) {
        const revision = nodes[namesake] as RevisionNode
        throw new StrataError(
          'E_GRAPH_DUPLICATE',
          `Branch label \`${label}\` of revision ${describe(node)} is also the id of revision ${describe(revision)}`,
          { label, revisions: [node.revision, label], hint: 'rename the branch label' },
        )
      }
      owner.set(label, index)
    }
  })
  return owner
}

interface DependencyScope {
  readonly indexOf: ReadonlyMap<string, number>
  readonly labelOwner: ReadonlyMap<string, number>
  readonly children: Adjacency
  readonly ids: readonly string[]
  readonly nodes: readonly RevisionNode[]
}

function resolveDependency(
  entry: string,
  node: RevisionNode,
  scope: DependencyScope,
): number | undefined {
  const direct = scope.indexOf.get(entry) ?? scope.labelOwner.get(entry)
  if (direct !== undefined || !entry.endsWith('@head')) return direct
  const name = entry.slice(0, -'@head'.length)
  const start = scope.labelOwner.get(name) ?? scope.indexOf.get(name)
  if (start === undefined) return undefined
  const heads = marked(reach(scope.ids.length, [start], [scope.children])).filter(
    (index) => (scope.children[index] ?? []).length === 0,
  )
  if (heads.length > 1) {
    const headIds = heads.map((index) => scope.ids[index] as string)
    throw new StrataError(
      'E_MULTIPLE_HEADS',
      `Revision ${describe(node)} depends on \`${entry}\`, but that branch has ${heads.length} heads: ${listRevisions(headIds, scope)}`,
      {
        revision: node.revision,
        heads: headIds,
        ...(node.file === undefined ? {} : { file: node.file }),
      },
    )
  }
  return heads[0]
}

function invert(adjacency: Adjacency): number[][] {
  const inverse: number[][] = adjacency.map(() => [])
  adjacency.forEach((targets, source) => {
    for (const target of targets) inverse[target]?.push(source)
  })
  return inverse
}

/** Resolves each reference to an index, once per index, reporting the unresolved ones. */
function resolveEach(
  references: readonly string[],
  resolveOne: (reference: string) => number | undefined,
  onMissing: (reference: string) => void,
): number[] {
  const resolved: number[] = []
  // A merge of thousands of branches must not dedupe in quadratic time.
  const seen = references.length > 8 ? new Set<number>() : undefined
  for (const reference of references) {
    const index = resolveOne(reference)
    if (index === undefined) onMissing(reference)
    else if (seen === undefined ? !resolved.includes(index) : !seen.has(index)) {
      seen?.add(index)
      resolved.push(index)
    }
  }
  return resolved
}
