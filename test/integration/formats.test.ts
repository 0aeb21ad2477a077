import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { URL_ARGS, strata, tempDir, useProject } from '../support/cli.js'
import { columns, indexes, rows } from '../support/sqlite.js'

const ARGS = URL_ARGS

describe('migration file formats', () => {
  const project = useProject()
  const write = project.write

  it('TypeScript, sectioned SQL, dbmate SQL and SQL pairs apply and revert together', () => {
    write('001_events.ts', `import { migration } from 'strata-migrate'
type Row = { n: number }
export default migration({
  description: 'events table',
  async up(op) {
    op.createTable('events', [
      { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
      { name: 'name', type: 'varchar(80)', nullable: false },
    ])
    op.execute('INSERT INTO events (name) VALUES (?), (?)', ['opening', 'final'])
    const [row] = await op.query<Row>('SELECT count(*) AS n FROM events')
    if (row?.n !== 2) throw new Error('expected two events')
  },
  async down(op) { op.dropTable('events') },
})
`)
    write('002_venues.sql', `-- strata:description Venues
-- strata:up
CREATE TABLE venues (id INTEGER PRIMARY KEY, name TEXT);
CREATE TRIGGER venues_name AFTER INSERT ON venues BEGIN
  UPDATE venues SET name = upper(new.name) WHERE id = new.id;
END;
INSERT INTO venues (name) VALUES ('arena');
-- strata:down
DROP TABLE venues;
`)
    write('003_dbmate.sql', `-- migrate:up
ALTER TABLE events ADD COLUMN venue_id INTEGER;
-- migrate:down
ALTER TABLE events DROP COLUMN venue_id;
`)
    write('004_pair.up.sql', 'CREATE INDEX idx_events_venue ON events (venue_id);\n')
    write('004_pair.down.sql', 'DROP INDEX idx_events_venue;\n')
    write('005_change.ts', `import { migration } from 'strata-migrate'
export default migration({
  async change(op) {
    op.addColumn('venues', { name: 'city', type: 'text' })
    op.createIndex('idx_venues_city', 'venues', ['city'])
  },
})
`)
    const up = strata(['up', ...ARGS], project.dir)
    expect(up.stderr).not.toContain('error[')
    expect(up.code).toBe(0)
    const db = join(project.dir, 'app.db')
    expect(rows(db, 'SELECT name FROM venues')).toEqual([{ name: 'ARENA' }])
    expect(columns(db, 'events')).toEqual(['id', 'name', 'venue_id'])
    expect(indexes(db, 'events')).toEqual(['idx_events_venue'])
    expect(columns(db, 'venues')).toEqual(['id', 'name', 'city'])
    const history = rows<{ revision: string; description: string }>(db, 'SELECT revision, description FROM strata_history ORDER BY revision')
    expect(history.map((h) => h.revision)).toEqual(['001_events', '002_venues', '003_dbmate', '004_pair', '005_change'])
    expect(history[0]!.description).toBe('events table')
    expect(history[1]!.description).toBe('Venues')

    const down = strata(['down', '-2', ...ARGS], project.dir)
    expect(down.code).toBe(0)
    expect(columns(db, 'venues')).toEqual(['id', 'name'])
    expect(indexes(db, 'venues')).toEqual([])
    expect(indexes(db, 'events')).toEqual([])
    expect(strata(['down', 'base', ...ARGS], project.dir).code).toBe(0)
    expect(rows(db, "SELECT name FROM sqlite_master WHERE name NOT LIKE 'strata_%' AND name NOT LIKE 'sqlite_%'")).toEqual([])
  })

  it('a migration whose up holds only comments is applied and recorded', () => {
    write('001_noop.sql', '-- strata:up\n-- nothing yet\n-- strata:down\n')
    expect(strata(['up', ...ARGS], project.dir).code).toBe(0)
    expect(rows(join(project.dir, 'app.db'), 'SELECT revision FROM strata_history')).toEqual([{ revision: '001_noop' }])
  })

  it('a malformed file exits 2 naming it, and nothing is touched', () => {
    write('001_ok.sql', '-- strata:up\nCREATE TABLE ok (id INTEGER);\n')
    write('002_bad.sql', 'CREATE TABLE before_marker (id INTEGER);\n-- strata:up\nSELECT 1;\n')
    const run = strata(['up', ...ARGS], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('error[E_MIGRATION_FILE]')
    expect(run.stderr).toContain('002_bad.sql')
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
  })

  it('a TypeScript syntax error exits 2 naming the file', () => {
    write('001_broken.ts', 'export default { async up(op) { op.createTable( }\n')
    const run = strata(['up', ...ARGS], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('001_broken.ts')
    expect(existsSync(join(project.dir, 'app.db'))).toBe(false)
  })

  it('change() with an irreversible op is refused when the file loads', () => {
    write('001_bad_change.ts', "export default { async change(op) { op.dropColumn('t', 'c') } }\n")
    const run = strata(['status', ...ARGS], project.dir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('001_bad_change')
    expect(run.stderr).toContain('irreversible')
  })
})

describe('init and new', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => ({ dir, cleanup } = tempDir()))
  afterEach(() => cleanup())

  it('init scaffolds strata.yaml and migrations/; new writes the next migration with the right parent', () => {
    expect(strata(['init'], dir).code).toBe(0)
    expect(existsSync(join(dir, 'strata.yaml'))).toBe(true)
    expect(readdirSync(join(dir, 'migrations'))).toEqual([])
    expect(strata(['init'], dir).code).toBe(2)

    const first = strata(['new', 'create users table', '--json'], dir)
    expect(first.code).toBe(0)
    const a = JSON.parse(first.stdout) as { revision: string; path: string; downRevision: string | null }
    expect(a.revision).toBe('000_create_users_table')
    expect(a.downRevision).toBeNull()
    writeFileSync(a.path, readFileSync(a.path, 'utf8').replace("// op.addColumn('table', { name: 'column', type: 'text', nullable: true })", "op.createTable('users', [{ name: 'id', type: 'integer', primaryKey: true }])").replace("// op.dropColumn('table', 'column')", "op.dropTable('users')"))

    const second = strata(['new', 'add', 'email', '--sql', '--json'], dir)
    const b = JSON.parse(second.stdout) as { revision: string; path: string; downRevision: string }
    expect(b.revision).toBe('001_add_email')
    expect(b.downRevision).toBe('000_create_users_table')
    expect(b.path.endsWith('.sql')).toBe(true)
    writeFileSync(b.path, readFileSync(b.path, 'utf8').replace('-- strata:up\n', '-- strata:up\nALTER TABLE users ADD COLUMN email TEXT;\n').replace('-- strata:down\n', '-- strata:down\nALTER TABLE users DROP COLUMN email;\n'))

    const up = strata(['up'], dir)
    expect(up.stderr).not.toContain('error[')
    expect(up.code).toBe(0)
    expect(columns(join(dir, 'app.db'), 'users')).toEqual(['id', 'email'])
  })
})

describe('migration files stay inside the migrations directory', () => {
  it('refuses a symbolic link that points outside it', async () => {
    const { symlinkSync } = await import('node:fs')
    const { dir, cleanup } = tempDir()
    try {
      mkdirSync(join(dir, 'migrations'))
      writeFileSync(join(dir, 'outside.sql'), '-- strata:up\nCREATE TABLE x (id INTEGER);\n')
      symlinkSync(join(dir, 'outside.sql'), join(dir, 'migrations', '001_link.sql'))
      const run = strata(['up', ...ARGS], dir)
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('outside the migrations directory')
      expect(existsSync(join(dir, 'app.db'))).toBe(false)
    } finally {
      cleanup()
    }
  })
})
