import { describe, expect, it } from 'vitest'
import { buildGraph } from '../../src/graph/index.js'
import { errorOf } from '../support/errors.js'
import { applied, node } from '../support/graph.js'

// Upgrade and downgrade paths (SPEC S2, Alembic's rules and its tests for #377, #789, #843, #1373).




describe('linear chain', () => {
  const graph = buildGraph([
    node('a'),
    node('b', ['a']),
    node('c', ['b']),
    node('d', ['c']),
    node('e', ['d']),
  ])
  const all = applied('a', 'b', 'c', 'd', 'e')

  it('upgrades from nothing to head, parents first', () => {
    expect(graph.upgradePath(applied(), 'head')).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('upgrades from a partial state to a middle revision and to head', () => {
    expect(graph.upgradePath(applied('a'), 'c')).toEqual(['b', 'c'])
    expect(graph.upgradePath(applied('a', 'b', 'c'), 'heads')).toEqual(['d', 'e'])
  })

  it('does nothing when the target is already applied', () => {
    expect(graph.upgradePath(all, 'head')).toEqual([])
    expect(graph.upgradePath(applied('a', 'b', 'c'), 'b')).toEqual([])
  })

  it('upgrades relative steps', () => {
    expect(graph.upgradePath(applied('a'), '+2')).toEqual(['b', 'c'])
    expect(graph.upgradePath(applied(), '+1')).toEqual(['a'])
    expect(graph.upgradePath(applied('a', 'b'), '+3')).toEqual(['c', 'd', 'e'])
  })

  it('refuses a relative upgrade that cannot take N steps', () => {
    expect(errorOf(() => graph.upgradePath(applied('a', 'b'), '+5')).code).toBe(
      'E_UNKNOWN_REVISION',
    )
  })

  it('downgrades to a revision, keeping it, children first', () => {
    expect(graph.downgradePath(all, 'c')).toEqual(['e', 'd'])
    expect(graph.downgradePath(applied('a', 'b', 'c'), 'a')).toEqual(['c', 'b'])
  })

  it('downgrades to base, reverting everything applied', () => {
    expect(graph.downgradePath(applied('a', 'b', 'c'), 'base')).toEqual(['c', 'b', 'a'])
    expect(graph.downgradePath(applied(), 'base')).toEqual([])
  })

  it('does nothing when downgrading to the current head', () => {
    expect(graph.downgradePath(all, 'e')).toEqual([])
  })

  it('downgrades relative steps, down to base exactly', () => {
    expect(graph.downgradePath(applied('a', 'b', 'c'), '-1')).toEqual(['c'])
    expect(graph.downgradePath(all, '-3')).toEqual(['e', 'd', 'c'])
    expect(graph.downgradePath(applied('a', 'b', 'c'), '-3')).toEqual(['c', 'b', 'a'])
  })

  it('refuses a relative downgrade past base, or from nothing applied', () => {
    expect(errorOf(() => graph.downgradePath(applied('a', 'b', 'c'), '-4')).code).toBe(
      'E_UNKNOWN_REVISION',
    )
    expect(errorOf(() => graph.downgradePath(applied(), '-1')).code).toBe('E_UNKNOWN_REVISION')
  })

  it('downgrades to a revision named by steps from another', () => {
    expect(graph.downgradePath(all, 'e-2')).toEqual(['e', 'd'])
    expect(graph.downgradePath(all, 'head-1')).toEqual(['e'])
  })

  it('refuses to downgrade to a revision that is not applied', () => {
    const error = errorOf(() => graph.downgradePath(applied('a', 'b'), 'd'))
    expect(error.code).toBe('E_UNKNOWN_REVISION')
    expect(error.message).toContain('`d` (migrations/d.ts)')
    expect(error.details['heads']).toEqual(['b'])
  })

  it('refuses a relative step in the wrong direction with E_USAGE', () => {
    expect(errorOf(() => graph.upgradePath(all, '-1')).code).toBe('E_USAGE')
    expect(errorOf(() => graph.downgradePath(all, '+1')).code).toBe('E_USAGE')
  })

  it('ignores applied ids the graph does not know', () => {
    expect(graph.upgradePath(applied('a', 'gone'), 'c')).toEqual(['b', 'c'])
    expect(graph.downgradePath(applied('a', 'b', 'gone'), 'base')).toEqual(['b', 'a'])
  })

  it('upgrades through a revision missing from a gappy applied set', () => {
    expect(graph.upgradePath(applied('a', 'c'), 'd')).toEqual(['b', 'd'])
  })
})

describe('branches with two heads', () => {
  //   a -> b -> c1 -> d1
  //          \-> c2 -> d2
  const graph = buildGraph([
    node('a'),
    node('b', ['a']),
    node('c1', ['b'], { branchLabels: ['c1branch'] }),
    node('d1', ['c1']),
    node('c2', ['b'], { branchLabels: ['c2branch'] }),
    node('d2', ['c2']),
  ])
  const all = applied('a', 'b', 'c1', 'd1', 'c2', 'd2')

  it('upgrades to heads, ties broken by revision id', () => {
    expect(graph.upgradePath(applied('a'), 'heads')).toEqual(['b', 'c1', 'c2', 'd1', 'd2'])
  })

  it('upgrades one branch only', () => {
    expect(graph.upgradePath(applied('a', 'b'), 'd1')).toEqual(['c1', 'd1'])
    expect(graph.upgradePath(applied('a', 'b', 'c1', 'd1'), 'c2branch@head')).toEqual(['c2', 'd2'])
  })

  it('refuses `head` with E_MULTIPLE_HEADS', () => {
    const error = errorOf(() => graph.upgradePath(applied(), 'head'))
    expect(error.code).toBe('E_MULTIPLE_HEADS')
    expect(error.details['heads']).toEqual(['d1', 'd2'])
  })

  it('downgrades to the branch point in the exact reverse of the upgrade order', () => {
    expect(graph.downgradePath(all, 'b')).toEqual(['d2', 'd1', 'c2', 'c1'])
    expect(graph.downgradePath(all, 'a')).toEqual(['d2', 'd1', 'c2', 'c1', 'b'])
  })

  it('downgrades one branch and keeps the other', () => {
    expect(graph.downgradePath(all, 'c2')).toEqual(['d2'])
    expect(graph.downgradePath(applied('a', 'b', 'c1', 'd1', 'c2'), 'c2')).toEqual([])
    expect(graph.downgradePath(applied('a', 'b', 'c1', 'd1', 'c2'), 'd1')).toEqual([])
  })

  it('refuses relative steps over two current heads', () => {
    expect(errorOf(() => graph.downgradePath(all, '-1')).code).toBe('E_MULTIPLE_HEADS')
    expect(errorOf(() => graph.upgradePath(applied('a', 'b', 'c1', 'c2'), '+1')).code).toBe(
      'E_MULTIPLE_HEADS',
    )
  })

  it('steps down one branch by its label', () => {
    expect(graph.downgradePath(all, 'c1branch@head-1')).toEqual(['d1'])
  })

  it('applies the rest of a partially applied pair of branches', () => {
    expect(graph.upgradePath(applied('a', 'b', 'c2'), 'heads')).toEqual(['c1', 'd1', 'd2'])
  })
})

describe('merge points', () => {
  //   a -> b -> c1 -> d1 -> e -> f
  //          \-> c2 -> d2 /
  const graph = buildGraph([
    node('a'),
    node('b', ['a']),
    node('c1', ['b']),
    node('d1', ['c1']),
    node('c2', ['b']),
    node('d2', ['c2']),
    node('e', ['d1', 'd2']),
    node('f', ['e']),
  ])
  const all = applied('a', 'b', 'c1', 'd1', 'c2', 'd2', 'e', 'f')

  it('upgrades across a merge point, applying both parents first', () => {
    expect(graph.upgradePath(applied('a', 'b'), 'f')).toEqual(['c1', 'c2', 'd1', 'd2', 'e', 'f'])
  })

  it('upgrades to the merge from one applied side', () => {
    expect(graph.upgradePath(applied('a', 'b', 'c2', 'd2'), 'e')).toEqual(['c1', 'd1', 'e'])
  })

  it('downgrades across a merge point', () => {
    expect(graph.downgradePath(all, 'b')).toEqual(['f', 'e', 'd2', 'd1', 'c2', 'c1'])
  })

  it('downgrades to one side of the merge, reverting the merge but keeping the other side', () => {
    expect(graph.downgradePath(all, 'c2')).toEqual(['f', 'e', 'd2'])
  })

  it('steps down from a merge point to its parents', () => {
    const upToMerge = applied('a', 'b', 'c1', 'd1', 'c2', 'd2', 'e')
    expect(graph.downgradePath(upToMerge, '-1')).toEqual(['e'])
    expect(graph.currentHeads(new Set(['a', 'b', 'c1', 'd1', 'c2', 'd2']))).toEqual(['d1', 'd2'])
    expect(graph.downgradePath(upToMerge, '-2')).toEqual(['e', 'd2', 'd1'])
  })

  it('steps down from a merge of branches of unequal length', () => {
    //   r -> p ----------\
    //   x -> y -> z ----> m
    const uneven = buildGraph([
      node('r'),
      node('p', ['r']),
      node('x'),
      node('y', ['x']),
      node('z', ['y']),
      node('m', ['p', 'z']),
    ])
    const everything = applied('r', 'p', 'x', 'y', 'z', 'm')
    expect(uneven.downgradePath(everything, '-2')).toEqual(['m', 'z', 'p'])
    expect(uneven.resolve('-3', everything)).toEqual(['x'])
    expect(uneven.downgradePath(everything, '-4')).toEqual(['m', 'z', 'y', 'x', 'p', 'r'])
    expect(errorOf(() => uneven.downgradePath(everything, '-5')).code).toBe('E_UNKNOWN_REVISION')
  })

  describe('merging three branches', () => {
    //   a1, a2, a3 -> m -> n
    const three = buildGraph([
      node('a1'),
      node('a2'),
      node('a3'),
      node('m', ['a1', 'a2', 'a3']),
      node('n', ['m']),
    ])

    it('applies every parent, then the merge', () => {
      expect(three.upgradePath(applied(), 'm')).toEqual(['a1', 'a2', 'a3', 'm'])
      expect(three.upgradePath(applied('a2'), 'n')).toEqual(['a1', 'a3', 'm', 'n'])
    })

    it('reverts the merge when one parent is the target', () => {
      expect(three.downgradePath(applied('a1', 'a2', 'a3', 'm', 'n'), 'a2')).toEqual(['n', 'm'])
    })

    it('steps down into the three parents, then to base', () => {
      const upToMerge = applied('a1', 'a2', 'a3', 'm')
      expect(three.resolve('-1', upToMerge)).toEqual(['a1', 'a2', 'a3'])
      expect(three.downgradePath(upToMerge, '-2')).toEqual(['m', 'a3', 'a2', 'a1'])
      expect(three.resolve('-2', upToMerge)).toEqual([])
    })
  })

  it('reverts only one side of a merge from a mergepoint (Alembic BranchFromMergepointTest)', () => {
    //   a1 -> b1 -> c1 -> d1 (merge of c1, c2)
    //   a2 -> b2 -> c2 -> d2
    const fromMerge = buildGraph([
      node('a1'),
      node('b1', ['a1']),
      node('c1', ['b1']),
      node('a2'),
      node('b2', ['a2']),
      node('c2', ['b2']),
      node('d1', ['c1', 'c2']),
      node('d2', ['c2']),
    ])
    const everything = applied('a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'd1', 'd2')
    expect(fromMerge.downgradePath(everything, 'b1')).toEqual(['d1', 'c1'])
    expect(fromMerge.upgradePath(applied('a1', 'b1', 'a2', 'b2', 'c2', 'd2'), 'd1')).toEqual([
      'c1',
      'd1',
    ])
  })
})

describe('dependsOn across branches', () => {
  //   a1 -> a2 -> a3          (branch a)
  //   b1 -> b2 -> b3          (branch b), b2 depends on a2
  const graph = buildGraph([
    node('a1'),
    node('a2', ['a1']),
    node('a3', ['a2']),
    node('b1'),
    node('b2', ['b1'], { dependsOn: ['a2'] }),
    node('b3', ['b2']),
  ])

  it('pulls the dependency and its ancestors into an upgrade', () => {
    expect(graph.upgradePath(applied(), 'b2')).toEqual(['a1', 'a2', 'b1', 'b2'])
    expect(graph.upgradePath(applied('b1'), 'b3')).toEqual(['a1', 'a2', 'b2', 'b3'])
  })

  it('does not pull the rest of the depended-on branch', () => {
    expect(graph.upgradePath(applied(), 'b3')).not.toContain('a3')
  })

  it('keeps revisions that merely depend on the downgrade target', () => {
    expect(graph.downgradePath(applied('a1', 'a2', 'a3', 'b1', 'b2', 'b3'), 'a2')).toEqual(['a3'])
  })

  it('reverts a dependent first when its dependency is reverted', () => {
    const all = applied('a1', 'a2', 'a3', 'b1', 'b2', 'b3')
    expect(graph.downgradePath(all, 'a1')).toEqual(['b3', 'b2', 'a3', 'a2'])
    expect(graph.downgradePath(applied('a1', 'a2', 'b1', 'b2'), 'a1')).toEqual(['b2', 'a2'])
  })

  it('keeps the depending branch when reverting a revision below its dependency', () => {
    expect(graph.downgradePath(applied('a1', 'a2', 'a3', 'b1', 'b2'), 'b1')).toEqual(['b2'])
  })

  it('orders a dependency before a lower-id revision that needs it', () => {
    const crossed = buildGraph([node('a', [], { dependsOn: ['z'] }), node('z')])
    expect(crossed.upgradePath(applied(), 'heads')).toEqual(['z', 'a'])
    expect(crossed.downgradePath(applied('a', 'z'), 'base')).toEqual(['a', 'z'])
  })

  it('resolves a dependency named by branch label (Alembic DependsOnBranchLabelTest)', () => {
    const labelled = buildGraph([
      node('a1', [], { branchLabels: ['lib1'] }),
      node('b1', ['a1']),
      node('c1', ['b1'], { branchLabels: ['c1lib'] }),
      node('a2'),
      node('b2', ['a2']),
      node('c2', ['b2'], { dependsOn: ['c1lib'] }),
      node('d1', ['c1']),
    ])
    const path = labelled.upgradePath(applied('a2'), 'c2')
    expect(path).toEqual(['a1', 'b1', 'b2', 'c1', 'c2'])
    expect(path).not.toContain('d1')
  })

  it('handles a dependency that is also the parent (Alembic #843)', () => {
    const redundant = buildGraph([node('a1'), node('a2', ['a1'], { dependsOn: ['a1'] })])
    expect(redundant.upgradePath(applied(), 'a2')).toEqual(['a1', 'a2'])
    expect(redundant.downgradePath(applied('a1', 'a2'), 'a1')).toEqual(['a2'])
  })

  it('keeps a crisscross dependent when reverting half of it (Alembic #377)', () => {
    //   a1 -> a2 -> a3 (a3 depends on b1)
    //   b1 -> b2 -> b3 (b2 depends on a2)
    const crisscross = buildGraph([
      node('a1'),
      node('a2', ['a1']),
      node('a3', ['a2'], { dependsOn: ['b1'] }),
      node('b1'),
      node('b2', ['b1'], { dependsOn: ['a2'] }),
      node('b3', ['b2']),
    ])
    expect(crisscross.downgradePath(applied('a1', 'a2', 'a3', 'b1', 'b2'), 'b1')).toEqual(['b2'])
    expect(crisscross.upgradePath(applied(), 'a3')).toEqual(['a1', 'a2', 'b1', 'a3'])
  })

  it('reverts only the newest of two revisions sharing a dependency (Alembic #789)', () => {
    const shared = buildGraph([
      node('a1'),
      node('a2', ['a1']),
      node('a3', ['a2']),
      node('b1'),
      node('b2', ['b1'], { dependsOn: ['a3'] }),
      node('b3', ['b2']),
      node('b4', ['b3'], { dependsOn: ['a3'] }),
    ])
    const all = applied('a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'b4')
    expect(shared.downgradePath(all, 'b3')).toEqual(['b4'])
    expect(shared.currentHeads(new Set([...all].filter((revision) => revision !== 'b4')))).toEqual([
      'a3',
      'b3',
    ])
  })

  describe('downgrading to a revision others depend on (Alembic #1373)', () => {
    //   a1 ------------\
    //   b1 (needs a1) --> bmerge
    const graph1373 = buildGraph([
      node('a1'),
      node('b1', [], { dependsOn: ['a1'] }),
      node('bmerge', ['a1', 'b1']),
    ])

    it('upgrades to the dependent, then to the merge', () => {
      expect(graph1373.upgradePath(applied('a1'), 'b1')).toEqual(['b1'])
      expect(graph1373.upgradePath(applied('a1', 'b1'), 'bmerge')).toEqual(['bmerge'])
      expect(graph1373.upgradePath(applied(), 'b1')).toEqual(['a1', 'b1'])
    })

    it('reverts only the merge when downgrading to either parent', () => {
      const all = applied('a1', 'b1', 'bmerge')
      expect(graph1373.downgradePath(all, 'a1')).toEqual(['bmerge'])
      expect(graph1373.downgradePath(all, 'b1')).toEqual(['bmerge'])
    })

    it('steps down from the dependent, keeping its dependency', () => {
      expect(graph1373.downgradePath(applied('a1', 'b1'), '-1')).toEqual(['b1'])
      expect(graph1373.upgradePath(applied('a1'), '+1')).toEqual(['b1'])
    })
  })

  it('keeps a revision that depends on revisions of three merged branches (Alembic DependsOnBranchTestTwo)', () => {
    const kaboom = buildGraph([
      node('a1'),
      node('a2'),
      node('a3'),
      node('amerge', ['a1', 'a2', 'a3']),
      node('b1'),
      node('b2'),
      node('bmerge', ['b1', 'b2']),
      node('c1'),
      node('c2'),
      node('c3'),
      node('cmerge', ['c1', 'c2', 'c3']),
      node('d1', [], { dependsOn: ['a3', 'b2', 'c1'] }),
    ])
    const all = new Set(kaboom.ordered)
    expect(kaboom.downgradePath(all, 'b2')).toEqual(['bmerge'])
    expect(kaboom.downgradePath(all, 'base')).toHaveLength(12)
    const order = kaboom.upgradePath(applied(), 'd1')
    expect(order).toEqual(['a3', 'b2', 'c1', 'd1'])
  })

  it('reverts a dependent of a dependent transitively, before what they need', () => {
    const transitive = buildGraph([
      node('x'),
      node('y', [], { dependsOn: ['x'] }),
      node('z', [], { dependsOn: ['y'] }),
      node('w', ['x']),
    ])
    expect(transitive.downgradePath(applied('x', 'y', 'z', 'w'), 'base')).toEqual([
      'z',
      'y',
      'w',
      'x',
    ])
  })
})

describe('relative upgrades and labels', () => {
  //   a -> b           (branch main)
  //   x -> y           (branch other, independent)
  const graph = buildGraph([
    node('a', [], { branchLabels: ['main'] }),
    node('b', ['a']),
    node('x', [], { branchLabels: ['other'] }),
    node('y', ['x']),
  ])

  it('takes +N from the same ordered path as `up heads`', () => {
    expect(graph.upgradePath(applied(), 'heads')).toEqual(['a', 'b', 'x', 'y'])
    expect(graph.upgradePath(applied('a', 'b'), '+1')).toEqual(['x'])
    expect(graph.upgradePath(applied(), '+3')).toEqual(['a', 'b', 'x'])
  })

  it('upgrades and downgrades a branch by its label', () => {
    expect(graph.upgradePath(applied('a', 'b'), 'other@head')).toEqual(['x', 'y'])
    expect(graph.downgradePath(applied('a', 'b', 'x', 'y'), 'other')).toEqual(['y'])
    expect(graph.downgradePath(applied('a', 'b', 'x', 'y'), 'main')).toEqual(['b'])
  })

  it('returns frozen lists', () => {
    expect(Object.isFrozen(graph.heads)).toBe(true)
    expect(Object.isFrozen(graph.upgradePath(applied(), 'heads'))).toBe(true)
    expect(Object.isFrozen(graph.resolve('heads'))).toBe(true)
  })
})

describe('10,000 revisions', () => {
  const size = 10_000
  const id = (position: number): string => `r${String(position).padStart(5, '0')}`

  it('handles a 10,000-long chain without recursion', () => {
    const nodes = Array.from({ length: size }, (_, position) =>
      node(id(position), position === 0 ? [] : [id(position - 1)]),
    )
    const graph = buildGraph(nodes)
    expect(graph.heads).toEqual([id(size - 1)])
    expect(graph.ordered[0]).toBe(id(0))
    const up = graph.upgradePath(applied(), 'head')
    expect(up).toHaveLength(size)
    expect(up[size - 1]).toBe(id(size - 1))
    const all = new Set(up)
    const down = graph.downgradePath(all, id(5_000))
    expect(down).toHaveLength(size - 5_001)
    expect(down[0]).toBe(id(size - 1))
    expect(down[down.length - 1]).toBe(id(5_001))
    expect(graph.downgradePath(all, 'base')).toHaveLength(size)
    expect(graph.resolve(`-${size - 1}`, all)).toEqual([id(0)])
    expect(graph.resolve('+9999', applied(id(0)))).toEqual([id(size - 1)])
    expect(graph.ancestors(id(size - 1)).size).toBe(size - 1)
  })

  it('handles a wide graph: one root, 9,998 branches, one merge', () => {
    const branches = Array.from({ length: size - 2 }, (_, position) =>
      node(id(position + 1), ['root']),
    )
    const graph = buildGraph([
      node('root'),
      ...branches,
      node(
        'zmerge',
        branches.map((branch) => branch.revision),
      ),
    ])
    expect(graph.heads).toEqual(['zmerge'])
    const up = graph.upgradePath(applied(), 'head')
    expect(up).toHaveLength(size)
    expect(up[1]).toBe(id(1))
    expect(graph.resolve('-1', new Set(up))).toHaveLength(size - 2)
    expect(graph.downgradePath(new Set(up), 'root')).toHaveLength(size - 1)
  })

  it('reports a cycle through a 10,000-long chain', () => {
    const nodes = Array.from({ length: size }, (_, position) =>
      node(id(position), [id((position + size - 1) % size)]),
    )
    const error = errorOf(() => buildGraph(nodes))
    expect(error.code).toBe('E_GRAPH_CYCLE')
    expect(error.details['revisions']).toHaveLength(size)
  })
})
