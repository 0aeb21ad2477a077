import { describe, expect, it } from 'vitest'
import { buildGraph } from '../../src/graph/index.js'
import { errorOf } from '../support/errors.js'
import { applied, node } from '../support/graph.js'

// Target resolution: head, heads, base, ids, prefixes, labels, label@head, relative steps.




//   a -> b -> c -> d
const chain = buildGraph([node('a'), node('b', ['a']), node('c', ['b']), node('d', ['c'])])

//   a -> b -> c1 (c1branch) -> d1
//          \-> c2 (c2branch) -> d2
const branched = buildGraph([
  node('a'),
  node('b', ['a']),
  node('c1', ['b'], { branchLabels: ['c1branch'] }),
  node('d1', ['c1']),
  node('c2', ['b'], { branchLabels: ['c2branch'] }),
  node('d2', ['c2']),
])

//   a -> b -> c1 -> d1 -> e (merge) -> f
//          \-> c2 (c2branch) -> d2 /
const merged = buildGraph([
  node('a'),
  node('b', ['a']),
  node('c1', ['b']),
  node('d1', ['c1']),
  node('c2', ['b'], { branchLabels: ['c2branch'] }),
  node('d2', ['c2']),
  node('e', ['d1', 'd2']),
  node('f', ['e']),
])

describe('resolve: symbolic targets', () => {
  it('resolves head, heads and base on a single-head graph', () => {
    expect(chain.resolve('head')).toEqual(['d'])
    expect(chain.resolve('heads')).toEqual(['d'])
    expect(chain.resolve('base')).toEqual([])
  })

  it('resolves heads to every head, sorted', () => {
    expect(branched.resolve('heads')).toEqual(['d1', 'd2'])
  })

  it('refuses head over several heads with E_MULTIPLE_HEADS listing them and their files', () => {
    const error = errorOf(() => branched.resolve('head'))
    expect(error.code).toBe('E_MULTIPLE_HEADS')
    expect(error.details['heads']).toEqual(['d1', 'd2'])
    expect(error.message).toContain('`d1` (migrations/d1.ts)')
    expect(error.message).toContain('`d2` (migrations/d2.ts)')
  })

  it('resolves head of an empty graph to nothing', () => {
    expect(buildGraph([]).resolve('head')).toEqual([])
  })
})

describe('resolve: ids, prefixes and labels', () => {
  const graph = buildGraph([
    node('1a2b'),
    node('1a2c', ['1a2b']),
    node('1f00', ['1a2c']),
    node('a1'),
    node('a10', ['a1'], { branchLabels: ['lib'] }),
    node('2024-01-15_x'),
  ])

  it('resolves a full id', () => {
    expect(graph.resolve('1a2c')).toEqual(['1a2c'])
  })

  it('resolves a unique prefix', () => {
    expect(graph.resolve('1f')).toEqual(['1f00'])
  })

  it('prefers an exact id over a longer id it prefixes', () => {
    expect(graph.resolve('a1')).toEqual(['a1'])
  })

  it('refuses an ambiguous prefix with E_AMBIGUOUS_REVISION listing the candidates', () => {
    const error = errorOf(() => graph.resolve('1a'))
    expect(error.code).toBe('E_AMBIGUOUS_REVISION')
    expect(error.details['candidates']).toEqual(['1a2b', '1a2c'])
    expect(error.message).toContain('migrations/1a2b.ts')
  })

  it('refuses an unknown target with E_UNKNOWN_REVISION', () => {
    const error = errorOf(() => graph.resolve('zzz'))
    expect(error.code).toBe('E_UNKNOWN_REVISION')
    expect(error.details['target']).toBe('zzz')
  })

  it('refuses an empty target', () => {
    expect(errorOf(() => graph.resolve('')).code).toBe('E_UNKNOWN_REVISION')
  })

  it('resolves a branch label to the revision carrying it', () => {
    expect(graph.resolve('lib')).toEqual(['a10'])
  })

  it('reads a dashed prefix as a prefix, not as a relative step', () => {
    expect(graph.resolve('2024-01')).toEqual(['2024-01-15_x'])
  })
})

describe('resolve: label@head', () => {
  it('follows child edges from the labelled revision to its head', () => {
    expect(branched.resolve('c1branch@head')).toEqual(['d1'])
    expect(branched.resolve('c2branch@head')).toEqual(['d2'])
  })

  it('follows the branch through a merge point', () => {
    expect(merged.resolve('c2branch@head')).toEqual(['f'])
  })

  it('accepts a revision (or prefix) instead of a label', () => {
    expect(branched.resolve('c1@head')).toEqual(['d1'])
    expect(chain.resolve('b@head')).toEqual(['d'])
  })

  it('refuses a branch that forks into several heads with E_MULTIPLE_HEADS', () => {
    const graph = buildGraph([
      node('a', [], { branchLabels: ['lib'] }),
      node('b1', ['a']),
      node('b2', ['a']),
    ])
    const error = errorOf(() => graph.resolve('lib@head'))
    expect(error.code).toBe('E_MULTIPLE_HEADS')
    expect(error.details['heads']).toEqual(['b1', 'b2'])
  })

  it('refuses an unknown label and unsupported `@` forms with E_UNKNOWN_REVISION', () => {
    expect(errorOf(() => branched.resolve('nolabel@head')).code).toBe('E_UNKNOWN_REVISION')
    expect(errorOf(() => branched.resolve('c1branch@base')).code).toBe('E_UNKNOWN_REVISION')
  })
})

describe('resolve: relative to the current head', () => {
  it('resolves +N from base when nothing is applied', () => {
    expect(chain.resolve('+1')).toEqual(['a'])
    expect(chain.resolve('+3', applied())).toEqual(['c'])
  })

  it('resolves +N from the single current head', () => {
    expect(chain.resolve('+1', applied('a', 'b'))).toEqual(['c'])
    expect(chain.resolve('+2', applied('a', 'b'))).toEqual(['d'])
  })

  it('refuses +N that cannot take N steps with E_UNKNOWN_REVISION', () => {
    const error = errorOf(() => chain.resolve('+3', applied('a', 'b')))
    expect(error.code).toBe('E_UNKNOWN_REVISION')
    expect(error.details['available']).toBe(2)
    expect(errorOf(() => chain.resolve('+1', applied('a', 'b', 'c', 'd'))).code).toBe(
      'E_UNKNOWN_REVISION',
    )
  })

  it('refuses +N over several current heads with E_MULTIPLE_HEADS', () => {
    const error = errorOf(() => branched.resolve('+1', applied('a', 'b', 'c1', 'c2')))
    expect(error.code).toBe('E_MULTIPLE_HEADS')
    expect(error.details['heads']).toEqual(['c1', 'c2'])
  })

  it('counts +N along the ordered upgrade path, ending on every revision it reaches', () => {
    // From b the upgrade path is c1, c2, d1, d2 (ties by id).
    expect(branched.resolve('+1', applied('a', 'b'))).toEqual(['c1'])
    expect(branched.resolve('+2', applied('a', 'b'))).toEqual(['c1', 'c2'])
    expect(branched.resolve('+3', applied('a', 'b'))).toEqual(['c2', 'd1'])
  })

  it('resolves -N to the current heads after going down N steps', () => {
    expect(chain.resolve('-1', applied('a', 'b', 'c'))).toEqual(['b'])
    expect(chain.resolve('-2', applied('a', 'b', 'c'))).toEqual(['a'])
  })

  it('resolves -N equal to the full depth to base', () => {
    expect(chain.resolve('-3', applied('a', 'b', 'c'))).toEqual([])
  })

  it('refuses -N beyond base with E_UNKNOWN_REVISION', () => {
    const error = errorOf(() => chain.resolve('-4', applied('a', 'b', 'c')))
    expect(error.code).toBe('E_UNKNOWN_REVISION')
    expect(error.message).toContain('`c` (migrations/c.ts)')
    expect(errorOf(() => chain.resolve('-1', applied())).code).toBe('E_UNKNOWN_REVISION')
  })

  it('resolves -1 from a merge point to the merge parents', () => {
    const all = applied('a', 'b', 'c1', 'd1', 'c2', 'd2', 'e')
    expect(merged.resolve('-1', all)).toEqual(['d1', 'd2'])
    expect(merged.resolve('-2', all)).toEqual(['c1', 'c2'])
    expect(merged.resolve('-4', all)).toEqual(['a'])
  })

  it('refuses -N over several current heads with E_MULTIPLE_HEADS', () => {
    expect(errorOf(() => branched.resolve('-1', applied('a', 'b', 'c1', 'c2'))).code).toBe(
      'E_MULTIPLE_HEADS',
    )
  })

  it('starts from the revision that depends on the other current head (Alembic #1373)', () => {
    const graph = buildGraph([node('a1'), node('b1', [], { dependsOn: ['a1'] })])
    expect(graph.resolve('+1', applied('a1'))).toEqual(['b1'])
    expect(graph.resolve('-1', applied('a1', 'b1'))).toEqual(['a1'])
  })
})

describe('resolve: steps from a named revision', () => {
  it('steps up and down from a revision', () => {
    expect(chain.resolve('b+2')).toEqual(['d'])
    expect(chain.resolve('d-2')).toEqual(['b'])
    expect(chain.resolve('c-3')).toEqual([])
  })

  it('steps from base, head and label@head', () => {
    expect(chain.resolve('base+1')).toEqual(['a'])
    expect(chain.resolve('base+3')).toEqual(['c'])
    expect(chain.resolve('head-1')).toEqual(['c'])
    expect(branched.resolve('c1branch@head-1')).toEqual(['c1'])
  })

  it('refuses a step up across a fork with E_MULTIPLE_HEADS', () => {
    const error = errorOf(() => branched.resolve('b+1'))
    expect(error.code).toBe('E_MULTIPLE_HEADS')
    expect(error.details['heads']).toEqual(['c1', 'c2'])
  })

  it('refuses steps past a head or past base with E_UNKNOWN_REVISION', () => {
    expect(errorOf(() => chain.resolve('d+1')).code).toBe('E_UNKNOWN_REVISION')
    expect(errorOf(() => chain.resolve('b-3')).code).toBe('E_UNKNOWN_REVISION')
    expect(errorOf(() => chain.resolve('base-1')).code).toBe('E_UNKNOWN_REVISION')
  })
})
