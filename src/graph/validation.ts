import { StrataError } from '../errors/index.js'
import { findCycle } from './cycle.js'
import { describeNode } from './describe.js'
import type { OrderingEdges } from './traversal.js'
import type { RevisionNode } from './types.js'

/** The checks of `buildGraph` and the errors they throw, each naming the files involved. */

const IDENTIFIER = /^[A-Za-z0-9_.-]+$/
const RESERVED = new Set(['head', 'heads', 'base'])

/** A downRevision or dependsOn entry that names nothing. */
export interface MissingReference {
  readonly node: RevisionNode
  readonly reference: string
  readonly message: string
}

/** `E_GRAPH_MISSING_PARENT` listing every missing reference, with the referencing files. */
export function throwMissing(missing: readonly MissingReference[]): never {
  const problems = missing.map(
    ({ node, message }) => `Revision ${describeNode(node)} ${message}, which does not exist`,
  )
  const files = unique(missing.flatMap(({ node }) => (node.file === undefined ? [] : [node.file])))
  throw new StrataError('E_GRAPH_MISSING_PARENT', problems.join('\n'), {
    problems,
    revisions: unique(missing.map(({ node }) => node.revision)),
    missing: unique(missing.map(({ reference }) => reference)),
    files,
    ...(files.length === 1 ? { file: files[0] } : {}),
  })
}

/** Revision ids and branch labels: `[A-Za-z0-9_.-]+`, no `..`, not a reserved target word. */
export function checkIdentifier(
  kind: 'Revision id' | 'Branch label',
  value: string,
  node: RevisionNode,
): void {
  if (IDENTIFIER.test(value) && !value.includes('..') && !RESERVED.has(value)) return
  const reason = RESERVED.has(value)
    ? `\`${value}\` is reserved for targets`
    : 'use letters, digits, `_`, `.` and `-`, without `..`'
  const where = kind === 'Revision id' ? (node.file ?? 'a migration') : describeNode(node)
  throw new StrataError(
    'E_MIGRATION_FILE',
    `${kind} \`${value}\` of ${where} is not valid: ${reason}`,
    {
      revision: node.revision,
      ...(node.file === undefined ? {} : { file: node.file }),
    },
  )
}

/** `E_GRAPH_DUPLICATE` for ids defined twice; `sorted` is ordered by id so duplicates are adjacent. */
export function checkDuplicates(sorted: readonly RevisionNode[]): void {
  const problems: string[] = []
  const revisions: string[] = []
  const files: string[] = []
  for (let index = 1; index < sorted.length; index += 1) {
    const previous = sorted[index - 1] as RevisionNode
    const current = sorted[index] as RevisionNode
    if (previous.revision !== current.revision) continue
    revisions.push(current.revision)
    for (const file of [previous.file, current.file]) if (file !== undefined) files.push(file)
    problems.push(
      `Revision \`${current.revision}\` is defined twice: in ${previous.file ?? 'one migration'} and in ${current.file ?? 'another'}`,
    )
  }
  if (problems.length === 0) return
  throw new StrataError('E_GRAPH_DUPLICATE', problems.join('\n'), {
    revisions: unique(revisions),
    files: unique(files),
  })
}

/** `E_GRAPH_CYCLE` for one cycle among the revisions `order` could not place. */
export function throwCycle(
  nodes: readonly RevisionNode[],
  ordering: OrderingEdges,
  order: readonly number[],
): never {
  const cycle = findCycle(nodes.length, ordering, order).map(
    (index) => nodes[index] as RevisionNode,
  )
  const first = cycle[0] as RevisionNode
  const shown =
    cycle.length > 12
      ? [...cycle.slice(0, 10).map(describeNode), `… (${cycle.length} revisions)`]
      : cycle.map(describeNode)
  const path = [...shown, `\`${first.revision}\``].join(' → ')
  const files = cycle.flatMap((node) => (node.file === undefined ? [] : [node.file]))
  throw new StrataError(
    'E_GRAPH_CYCLE',
    `Revisions form a cycle (each names the next as parent or dependency): ${path}`,
    { revisions: cycle.map((node) => node.revision), files },
  )
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)]
}
