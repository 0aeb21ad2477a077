import { describe, expect, it } from 'vitest'
import { buildGraph } from '../../src/graph/index.js'
import { errorOf } from '../support/errors.js'
import { node } from '../support/graph.js'

// Building and validating the revision graph; heads, bases, order, lookups.



describe('buildGraph: shapes', () => {
  it('builds an empty graph', () => {
    const graph = buildGraph([])
    expect(graph.size).toBe(0)
    expect(graph.heads).toEqual([])
    expect(graph.bases).toEqual([])
    expect(graph.ordered).toEqual([])
  })

  it('builds a linear chain', () => {
    const graph = buildGraph([node('003_c', ['002_b']), node('001_a'), node('002_b', ['001_a'])])
    expect(graph.size).toBe(3)
    expect(graph.heads).toEqual(['003_c'])
    expect(graph.bases).toEqual(['001_a'])
    expect(graph.ordered).toEqual(['001_a', '002_b', '003_c'])
  })

  it('gives two heads to a branch point and sorts them by id', () => {
    const graph = buildGraph([node('a'), node('b', ['a']), node('d2', ['b']), node('c1', ['b'])])
    expect(graph.heads).toEqual(['c1', 'd2'])
    expect(graph.bases).toEqual(['a'])
  })

  it('gives one head to a merge point of three branches', () => {
    const graph = buildGraph([node('a3'), node('a1'), node('a2'), node('m', ['a1', 'a2', 'a3'])])
    expect(graph.heads).toEqual(['m'])
    expect(graph.bases).toEqual(['a1', 'a2', 'a3'])
    expect(graph.ordered).toEqual(['a1', 'a2', 'a3', 'm'])
  })

  it('does not let dependsOn make a head a non-head', () => {
    const graph = buildGraph([node('a1'), node('b1', [], { dependsOn: ['a1'] })])
    expect(graph.heads).toEqual(['a1', 'b1'])
  })

  it('orders dependsOn targets before their dependents, else by id', () => {
    const graph = buildGraph([node('a', [], { dependsOn: ['b'] }), node('b'), node('c')])
    expect(graph.ordered).toEqual(['b', 'a', 'c'])
  })

  it('orders parents before children even when a child id sorts first', () => {
    const graph = buildGraph([node('z'), node('a', ['z']), node('m')])
    expect(graph.ordered).toEqual(['m', 'z', 'a'])
  })

  it('does not depend on the order of the input', () => {
    const nodes = [
      node('a'),
      node('b', ['a']),
      node('c1', ['b']),
      node('c2', ['b']),
      node('d', ['c1', 'c2']),
    ]
    const reversed = buildGraph([...nodes].reverse())
    expect(reversed.ordered).toEqual(buildGraph(nodes).ordered)
  })

  it('ignores a parent or dependency written twice', () => {
    const graph = buildGraph([node('a'), node('b', ['a', 'a'], { dependsOn: ['a', 'a'] })])
    expect(graph.upgradePath(new Set(), 'heads')).toEqual(['a', 'b'])
    expect(graph.dependenciesOf('b')).toEqual(['a'])
  })
})

describe('buildGraph: lookups', () => {
  const graph = buildGraph([
    node('a'),
    node('b', ['a'], { branchLabels: ['lib'] }),
    node('c', ['b']),
    node('x'),
    node('y', ['x'], { dependsOn: ['lib'] }),
  ])

  it('answers has() for full ids only', () => {
    expect(graph.has('b')).toBe(true)
    expect(graph.has('lib')).toBe(false)
    expect(graph.has('zz')).toBe(false)
  })

  it('returns the node given to buildGraph', () => {
    expect(graph.get('c')).toEqual(node('c', ['b']))
  })

  it('refuses get() of an unknown revision with E_UNKNOWN_REVISION', () => {
    const error = errorOf(() => graph.get('nope'))
    expect(error.code).toBe('E_UNKNOWN_REVISION')
    expect(error.message).toContain('`nope`')
  })

  it('resolves a branch label in dependsOn to the revision carrying it', () => {
    expect(graph.dependenciesOf('y')).toEqual(['b'])
    expect(graph.get('y').dependsOn).toEqual(['lib'])
  })

  it('lists strict ancestors through downRevisions, optionally through dependsOn', () => {
    expect([...graph.ancestors('y')].sort()).toEqual(['x'])
    expect([...graph.ancestors('y', { includeDependsOn: true })].sort()).toEqual(['a', 'b', 'x'])
    expect([...graph.ancestors('a')]).toEqual([])
  })

  it('lists strict descendants through downRevisions only', () => {
    expect([...graph.descendants('a')].sort()).toEqual(['b', 'c'])
    expect([...graph.descendants('b')]).toEqual(['c'])
  })

  it('refuses ancestors() of an unknown revision', () => {
    expect(errorOf(() => graph.ancestors('nope')).code).toBe('E_UNKNOWN_REVISION')
  })
})

describe('buildGraph: dependsOn forms', () => {
  it('resolves `label@head` in dependsOn to the head of that branch', () => {
    const graph = buildGraph([
      node('r1', [], { branchLabels: ['reporting'] }),
      node('r2', ['r1']),
      node('a'),
      node('b', ['a'], { dependsOn: ['reporting@head'] }),
    ])
    expect(graph.dependenciesOf('b')).toEqual(['r2'])
    expect(graph.upgradePath(new Set(), 'b')).toEqual(['a', 'r1', 'r2', 'b'])
  })

  it('refuses a dependsOn `label@head` whose branch forks, naming the file', () => {
    const error = errorOf(() =>
      buildGraph([
        node('r1', [], { branchLabels: ['reporting'] }),
        node('r2', ['r1']),
        node('r3', ['r1']),
        node('b', [], { dependsOn: ['reporting@head'] }),
      ]),
    )
    expect(error.code).toBe('E_MULTIPLE_HEADS')
    expect(error.message).toContain('migrations/b.ts')
    expect(error.details['heads']).toEqual(['r2', 'r3'])
  })
})

describe('buildGraph: validation', () => {
  it('refuses a duplicate revision id, naming both files', () => {
    const error = errorOf(() =>
      buildGraph([
        node('001_a', [], { file: 'migrations/001_a.ts' }),
        node('001_a', [], { file: 'migrations/001_a.sql' }),
      ]),
    )
    expect(error.code).toBe('E_GRAPH_DUPLICATE')
    expect(error.message).toContain('migrations/001_a.ts')
    expect(error.message).toContain('migrations/001_a.sql')
    expect(error.details['revisions']).toEqual(['001_a'])
    expect(error.exitCode).toBe(2)
  })

  it('refuses a missing parent, naming the file that references it', () => {
    const error = errorOf(() => buildGraph([node('002_x', ['001_y'])]))
    expect(error.code).toBe('E_GRAPH_MISSING_PARENT')
    expect(error.message).toBe(
      'Revision `002_x` (migrations/002_x.ts) names parent `001_y`, which does not exist',
    )
    expect(error.details.file).toBe('migrations/002_x.ts')
    expect(error.details['missing']).toEqual(['001_y'])
    expect(error.hint).toContain('missing migration')
  })

  it('refuses a missing dependsOn target, naming the file', () => {
    const error = errorOf(() => buildGraph([node('a'), node('b', ['a'], { dependsOn: ['ghost'] })]))
    expect(error.code).toBe('E_GRAPH_MISSING_PARENT')
    expect(error.message).toBe(
      'Revision `b` (migrations/b.ts) depends on `ghost`, which does not exist',
    )
  })

  it('lists every missing reference at once', () => {
    const error = errorOf(() => buildGraph([node('a', ['p']), node('b', ['q'])]))
    expect(error.details['problems']).toHaveLength(2)
    expect(error.details['files']).toEqual(['migrations/a.ts', 'migrations/b.ts'])
  })

  it('refuses a cycle through downRevisions, listing revisions and files', () => {
    const error = errorOf(() =>
      buildGraph([node('r'), node('a', ['c', 'r']), node('b', ['a']), node('c', ['b'])]),
    )
    expect(error.code).toBe('E_GRAPH_CYCLE')
    expect([...(error.details['revisions'] as string[])].sort()).toEqual(['a', 'b', 'c'])
    expect(error.message).toContain('migrations/a.ts')
    expect(error.message).toContain('migrations/c.ts')
    expect(error.message).not.toContain('`r`')
  })

  it('refuses a revision that is its own parent', () => {
    const error = errorOf(() => buildGraph([node('a', ['a'])]))
    expect(error.code).toBe('E_GRAPH_CYCLE')
    expect(error.details['revisions']).toEqual(['a'])
  })

  it('refuses a cycle closed by dependsOn', () => {
    const error = errorOf(() => buildGraph([node('a', [], { dependsOn: ['b'] }), node('b', ['a'])]))
    expect(error.code).toBe('E_GRAPH_CYCLE')
    expect([...(error.details['revisions'] as string[])].sort()).toEqual(['a', 'b'])
  })

  it('refuses a branch label used by two revisions, naming both files', () => {
    const error = errorOf(() =>
      buildGraph([
        node('a', [], { branchLabels: ['lib'] }),
        node('b', [], { branchLabels: ['lib'] }),
      ]),
    )
    expect(error.code).toBe('E_GRAPH_DUPLICATE')
    expect(error.message).toContain('migrations/a.ts')
    expect(error.message).toContain('migrations/b.ts')
  })

  it('refuses a branch label equal to a revision id', () => {
    const error = errorOf(() => buildGraph([node('a', [], { branchLabels: ['b'] }), node('b')]))
    expect(error.code).toBe('E_GRAPH_DUPLICATE')
  })

  it.each(['a/b', '../x', 'a..b', 'a b', '', 'head', 'heads', 'base', 'x@head'])(
    'refuses the revision id %j with E_MIGRATION_FILE',
    (revision) => {
      const error = errorOf(() => buildGraph([node(revision)]))
      expect(error.code).toBe('E_MIGRATION_FILE')
      expect(error.message).toContain(`migrations/${revision}.ts`)
    },
  )

  it('accepts ids made of letters, digits, `_`, `.` and `-`', () => {
    expect(buildGraph([node('2024-01-15_add.users')]).heads).toEqual(['2024-01-15_add.users'])
  })

  it('refuses an invalid branch label', () => {
    expect(errorOf(() => buildGraph([node('a', [], { branchLabels: ['x@y'] })])).code).toBe(
      'E_MIGRATION_FILE',
    )
  })

  it('names revisions without a file by id alone', () => {
    const error = errorOf(() =>
      buildGraph([{ revision: 'b', downRevisions: ['a'], dependsOn: [], branchLabels: [] }]),
    )
    expect(error.message).toBe('Revision `b` names parent `a`, which does not exist')
  })
})

describe('currentHeads', () => {
  const graph = buildGraph([
    node('a'),
    node('b', ['a']),
    node('c1', ['b']),
    node('c2', ['b']),
    node('x', [], { dependsOn: ['a'] }),
  ])

  it('is empty when nothing is applied', () => {
    expect(graph.currentHeads(new Set())).toEqual([])
  })

  it('gives the tip of a partially applied chain', () => {
    expect(graph.currentHeads(new Set(['a', 'b']))).toEqual(['b'])
  })

  it('gives one head per applied branch, sorted', () => {
    expect(graph.currentHeads(new Set(['a', 'b', 'c2', 'c1']))).toEqual(['c1', 'c2'])
  })

  it('keeps a revision that another applied revision merely depends on', () => {
    expect(graph.currentHeads(new Set(['a', 'x']))).toEqual(['a', 'x'])
  })

  it('ignores applied ids the graph does not know', () => {
    expect(graph.currentHeads(new Set(['a', 'vanished']))).toEqual(['a'])
  })
})
