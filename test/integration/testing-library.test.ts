import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// The package's own subpath export, resolved as a user's test suite resolves it.
import { testMigrations } from 'strata-migrate/testing'
import { ROOT, useProject } from '../support/cli.js'

describe('strata-migrate/testing in a vitest suite', () => {
  const project = useProject()

  it('the flagship example passes: every migration goes up, down and up again', async () => {
    const report = await testMigrations({ config: join(ROOT, 'examples', 'graphics-dashboard', 'strata.yaml') })
    expect(report.failures).toEqual([])
    expect(report.revisions.map((r) => r.revision)).toEqual(['000_initial_schema', '001_add_event_name_to_graphics'])
    expect(report.ok).toBe(true)
  })

  it('reports a down that forgets an index as a failure, without throwing', async () => {
    project.write('001_graphics.ts', `export default {
  up(op) {
    op.createTable('graphics', [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'title', type: 'text' }])
  },
  down(op) { op.dropTable('graphics') },
}
`)
    project.write('002_index.ts', `export default {
  up(op) { op.createIndex('idx_graphics_title', 'graphics', ['title']) },
  down(op) {},
}
`)
    const report = await testMigrations({ migrations: join(project.dir, 'migrations') })
    expect(report.ok).toBe(false)
    expect(report.failures).toEqual([{
      revision: '002_index',
      check: 'round-trip',
      message: 'index graphics.idx_graphics_title still exists after down of 002_index',
      objects: [{ kind: 'index', name: 'graphics.idx_graphics_title', change: 'added' }],
    }])
  })
})
