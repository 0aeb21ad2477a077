import { StrataError } from '../errors/index.js'
import { listRevisions } from './describe.js'
import type { GraphIndex } from './graph-index.js'
import { headsWithin, revertOrder, stepDown, tipsWithin, upgradeOrder } from './paths.js'
import { marked, reach } from './traversal.js'

/**
 * Target resolution (SPEC S2): `head`, `heads`, `base`, revision ids, unique
 * prefixes, branch labels, `X@head`, `+N` / `-N` from the current head, and
 * `X+N` / `X-N` / `base+N`. Results are indexes, ascending.
 */

const CURRENT_RELATIVE = /^([+-])(\d+)$/
const ANCHORED_RELATIVE = /^(.+?)([+-])(\d+)$/

/** A step relative to the database's current head: `+3` is up 3, `-2` down 2. */
export interface RelativeStep {
  readonly direction: 'up' | 'down'
  readonly steps: number
}

/** Parses `+N` / `-N`; undefined for every other form. */
export function currentRelativeStep(target: string): RelativeStep | undefined {
  const match = CURRENT_RELATIVE.exec(target)
  if (match === null) return undefined
  return { direction: match[1] === '+' ? 'up' : 'down', steps: toSteps(match[2] as string, target) }
}

/** Resolves `target` to revision indexes given the applied mask. */
export function resolveTarget(index: GraphIndex, target: string, applied: Uint8Array): number[] {
  if (target === 'heads') return headsWithin(index, new Uint8Array(index.size).fill(1))
  if (target === 'head') return singleHead(index, target)
  if (target === 'base') return []
  if (target === '') throw unknown(target, 'it is empty')
  const relative = currentRelativeStep(target)
  if (relative !== undefined) {
    return relative.direction === 'up'
      ? stepUpFromCurrent(index, relative.steps, applied, target)
      : headsAfterDown(index, relative.steps, applied, target)
  }
  const exact = index.indexOf.get(target) ?? index.labelOwner.get(target)
  if (exact !== undefined) return [exact]
  if (target.endsWith('@head'))
    return branchHead(index, single(index, target.slice(0, -5), applied), target)
  const candidates = prefixMatches(index, target)
  if (candidates.length === 1) return candidates
  if (candidates.length > 1) throw ambiguous(index, target, candidates)
  const anchored = ANCHORED_RELATIVE.exec(target)
  if (anchored !== null) return fromAnchor(index, anchored, applied, target)
  throw target.includes('@')
    ? unknown(target, 'only `X@head` is supported after `@`')
    : unknown(target)
}

/** Revisions `down -steps` reverts, in order, from the single current head. */
export function revertSteps(
  index: GraphIndex,
  steps: number,
  applied: Uint8Array,
  what: string,
): number[] {
  const start = relativeStart(index, applied, what)
  if (start === undefined) {
    if (steps === 0) return []
    throw new StrataError(
      'E_UNKNOWN_REVISION',
      `Relative target \`${what}\` cannot step down: nothing is applied`,
      {
        target: what,
      },
    )
  }
  const passed = stepDown(index, start, steps, what)
  for (let position = 0; position < index.size; position += 1) {
    if (applied[position] !== 1) passed[position] = 0
  }
  return revertOrder(index, passed, applied)
}

function headsAfterDown(
  index: GraphIndex,
  steps: number,
  applied: Uint8Array,
  what: string,
): number[] {
  const remaining = applied.slice()
  for (const reverted of revertSteps(index, steps, applied, what)) remaining[reverted] = 0
  return headsWithin(index, remaining)
}

function stepUpFromCurrent(
  index: GraphIndex,
  steps: number,
  applied: Uint8Array,
  what: string,
): number[] {
  const start = relativeStart(index, applied, what)
  const path = upgradeOrder(index, headsWithin(index, new Uint8Array(index.size).fill(1)), applied)
  if (path.length < steps) {
    const from = start === undefined ? 'base' : listRevisions([index.ids[start] as string], index)
    throw new StrataError(
      'E_UNKNOWN_REVISION',
      `Relative target \`${what}\` cannot take ${steps} steps up from ${from}: ${path.length} ${path.length === 1 ? 'revision is' : 'revisions are'} ahead`,
      { target: what, available: path.length },
    )
  }
  const taken = new Uint8Array(index.size)
  for (const position of path.slice(0, steps)) taken[position] = 1
  return tipsWithin(index, taken)
}

/** The single applied revision that no applied revision builds on; undefined when nothing is applied. */
function relativeStart(index: GraphIndex, applied: Uint8Array, what: string): number | undefined {
  const starts = tipsWithin(index, applied)
  if (starts.length <= 1) return starts[0]
  const heads = starts.map((position) => index.ids[position] as string)
  throw new StrataError(
    'E_MULTIPLE_HEADS',
    `Relative target \`${what}\` needs a single current head, but the database has ${heads.length}: ${listRevisions(heads, index)}`,
    {
      target: what,
      heads,
      hint: 'name a revision or a branch (`label@head`) instead of a relative step',
    },
  )
}

function fromAnchor(
  index: GraphIndex,
  match: RegExpExecArray,
  applied: Uint8Array,
  what: string,
): number[] {
  const anchor = match[1] as string
  const sign = match[2] as string
  const steps = toSteps(match[3] as string, what)
  if (anchor === 'base') {
    if (sign === '-') throw unknown(what, 'nothing is below base')
    if (steps === 0) return []
    const bases = index.ids.flatMap((_, position) =>
      (index.parents[position] ?? []).length === 0 ? [position] : [],
    )
    return [stepUp(index, forkCheck(index, bases, what, 'bases'), steps - 1, what)]
  }
  const start = single(index, anchor, applied)
  if (sign === '+') return [stepUp(index, start, steps, what)]
  const remaining = reach(index.size, [start], [index.parents])
  const passed = stepDown(index, start, steps, what)
  for (let position = 0; position < index.size; position += 1) {
    if (passed[position] === 1) remaining[position] = 0
  }
  return headsWithin(index, remaining)
}

function stepUp(index: GraphIndex, start: number, steps: number, what: string): number {
  let current = start
  for (let step = 0; step < steps; step += 1) {
    const children = index.children[current] ?? []
    if (children.length === 0) {
      throw unknown(what, `${listRevisions([index.ids[current] as string], index)} has no child`)
    }
    current = forkCheck(index, children, what, 'children')
  }
  return current
}

function forkCheck(
  index: GraphIndex,
  choices: readonly number[],
  what: string,
  kind: string,
): number {
  if (choices.length === 1) return choices[0] as number
  if (choices.length === 0) throw unknown(what, 'the graph is empty')
  const heads = choices.map((position) => index.ids[position] as string).sort()
  throw new StrataError(
    'E_MULTIPLE_HEADS',
    `Target \`${what}\` is ambiguous: the path forks into ${heads.length} ${kind}: ${listRevisions(heads, index)}`,
    { target: what, heads, hint: 'name the revision on the branch you mean' },
  )
}

function singleHead(index: GraphIndex, what: string): number[] {
  const heads = headsWithin(index, new Uint8Array(index.size).fill(1))
  if (heads.length <= 1) return heads
  throw multipleHeads(index, heads, what, `there are ${heads.length} heads`)
}

function branchHead(index: GraphIndex, start: number, what: string): number[] {
  const heads = marked(reach(index.size, [start], [index.children])).filter(
    (position) => (index.children[position] ?? []).length === 0,
  )
  if (heads.length === 1) return heads
  throw multipleHeads(index, heads, what, `the branch forks into ${heads.length} heads`)
}

/** Resolves a form that must name exactly one revision (the X of `X@head`, `X+N`). */
function single(index: GraphIndex, target: string, applied: Uint8Array): number {
  const resolved = resolveTarget(index, target, applied)
  if (resolved.length === 1) return resolved[0] as number
  if (resolved.length === 0) throw unknown(target, 'it names no revision')
  throw multipleHeads(index, resolved, target, `it names ${resolved.length} revisions`)
}

function prefixMatches(index: GraphIndex, prefix: string): number[] {
  let low = 0
  let high = index.ids.length
  while (low < high) {
    const middle = (low + high) >> 1
    if ((index.ids[middle] as string) < prefix) low = middle + 1
    else high = middle
  }
  const matches: number[] = []
  for (let position = low; position < index.ids.length; position += 1) {
    if (!(index.ids[position] as string).startsWith(prefix)) break
    matches.push(position)
  }
  return matches
}

function toSteps(digits: string, what: string): number {
  const steps = Number(digits)
  if (!Number.isSafeInteger(steps)) throw unknown(what, 'the step count is too large')
  return steps
}

function multipleHeads(
  index: GraphIndex,
  heads: readonly number[],
  what: string,
  reason: string,
): StrataError {
  const ids = heads.map((position) => index.ids[position] as string)
  return new StrataError(
    'E_MULTIPLE_HEADS',
    `Target \`${what}\` is ambiguous: ${reason}: ${listRevisions(ids, index)}`,
    { target: what, heads: ids },
  )
}

function ambiguous(index: GraphIndex, prefix: string, candidates: readonly number[]): StrataError {
  const ids = candidates.map((position) => index.ids[position] as string)
  return new StrataError(
    'E_AMBIGUOUS_REVISION',
    `Target \`${prefix}\` is ambiguous: it is a prefix of ${ids.length} revision ids: ${listRevisions(ids, index)}`,
    { target: prefix, candidates: ids },
  )
}

function unknown(target: string, reason?: string): StrataError {
  const message =
    reason === undefined
      ? `Target \`${target}\` matches no revision id, prefix or branch label`
      : `Target \`${target}\` cannot be resolved: ${reason}`
  return new StrataError('E_UNKNOWN_REVISION', message, { target })
}
