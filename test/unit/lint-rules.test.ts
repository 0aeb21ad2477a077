import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import type { ConfigFile } from '../../src/config/schema.js'
import { StrataEmitter } from '../../src/events/events.js'
import { lintMigrations, type LintFinding, type LintOptions } from '../../src/lint/index.js'
import { loadProject } from '../../src/pipeline/session.js'
import { tempDir } from '../support/cli.js'

type Engine = 'sqlite' | 'postgres' | 'mysql' | 'mariadb'

const URLS: Readonly<Record<Engine, string>> = {
  sqlite: 'sqlite:app.db',
  postgres: 'postgres://nobody@127.0.0.1:1/x',
  mysql: 'mysql://nobody@127.0.0.1:1/x',
  mariadb: 'mariadb://nobody@127.0.0.1:1/x',
}

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!()
})

/**
 * Lints a temp project made of `files` (name → text, under migrations/) through the real
 * config loader, migration loader and parsers, without any database.
 */
async function lint(
  engine: Engine,
  files: Readonly<Record<string, string>>,
  options: LintOptions & { readonly rules?: NonNullable<ConfigFile['lint']>['rules']; readonly unparsed?: true } = {},
): Promise<LintFinding[]> {
  const temp = tempDir('strata-lint-')
  cleanups.push(temp.cleanup)
  mkdirSync(join(temp.dir, 'migrations'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(temp.dir, 'migrations', name), text)
  const { rules, unparsed, ...lintOptions } = options
  const config = loadConfig({
    config: { environments: { dev: { url: URLS[engine] } }, ...(rules ? { lint: { rules } } : {}) },
    cwd: temp.dir,
    environ: {},
  })
  const project = await loadProject(config, new StrataEmitter())
  const findings = await lintMigrations(project, { cwd: temp.dir, ...lintOptions })
  // Every statement of a test is read by the real parser unless the test is about `unparsed`:
  // a rule that stays silent because its statement went unread would prove nothing.
  if (!unparsed) expect(findings.filter((f) => f.rule === 'unparsed')).toEqual([])
  return findings
}

/** The findings of one rule, as `rule severity revision line` strings. */
function of(findings: readonly LintFinding[], rule: string): string[] {
  return findings.filter((f) => f.rule === rule).map((f) => `${f.severity} ${f.revision} ${f.file}:${f.line ?? '-'}`)
}

/** A sectioned SQL migration. */
function sql(up: string, down?: string, header = ''): string {
  return `${header}-- strata:up\n${up}\n${down === undefined ? '' : `-- strata:down\n${down}\n`}`
}

/** A TypeScript migration module with the given bodies. */
function module(up: string, down: string | null = '', extra = ''): string {
  return `import { migration } from 'strata-migrate'
export default migration({
  ${extra}
  async up(op) {
    ${up}
  },
  ${down === null ? '' : `async down(op) {\n    ${down}\n  },`}
})
`
}

const USERS = sql('CREATE TABLE users (id integer PRIMARY KEY, name text, email text);', 'DROP TABLE users;')

const SQL_ENGINES: readonly Engine[] = ['sqlite', 'postgres', 'mysql', 'mariadb']

describe('drop-table and drop-column (data loss)', () => {
  for (const engine of SQL_ENGINES) {
    it(`${engine}: an up that drops an existing table or column is an error; the down that drops what its up created is info`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_drop.sql': sql('ALTER TABLE users DROP COLUMN email;\nDROP TABLE users;', 'CREATE TABLE users (id integer PRIMARY KEY, name text, email text);'),
      })
      expect(of(findings, 'drop-column')).toEqual(['error 002_drop migrations/002_drop.sql:2'])
      expect(of(findings, 'drop-table')).toEqual(['info 001_users migrations/001_users.sql:4', 'error 002_drop migrations/002_drop.sql:3'])
      expect(findings.find((f) => f.rule === 'drop-table' && f.severity === 'info')?.message).toMatch(/^down: drops table `users`/)
    })

    it(`${engine}: creating tables and columns, or dropping a table created in the same migration, loses nothing`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, name text);\nALTER TABLE users ADD COLUMN email text;\nCREATE TABLE scratch (id integer);\nDROP TABLE scratch;', 'DROP TABLE users;'),
      }, { direction: 'up' })
      expect(of(findings, 'drop-table')).toEqual([])
      expect(of(findings, 'drop-column')).toEqual([])
    })
  }

  it('op-based: dropTable / dropColumn are errors (line null, the op named in the message); info in down', async () => {
    const findings = await lint('sqlite', {
      '001_users.ts': module(`op.createTable('users', [{ name: 'id', type: 'integer', primaryKey: true }, { name: 'email', type: 'text' }])`, `op.dropTable('users')`),
      '002_drop.ts': module(`op.dropColumn('users', 'email')\n    op.dropTable('users')`, `op.createTable('users', [{ name: 'id', type: 'integer' }])`),
    })
    expect(of(findings, 'drop-column')).toEqual(['error 002_drop migrations/002_drop.ts:-'])
    expect(of(findings, 'drop-table')).toEqual(['info 001_users migrations/001_users.ts:-', 'error 002_drop migrations/002_drop.ts:-'])
    expect(findings.find((f) => f.rule === 'drop-column')?.message).toMatch(/^op #1 dropColumn: drops column `users\.email`/)
    expect(findings.find((f) => f.rule === 'drop-table' && f.revision === '002_drop')?.message).toMatch(/^op #2 dropTable: /)
  })
})

describe('irreversible', () => {
  it('an SQL migration without a down section, and a module with up() only, draw a warning', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY);'),
      '002_x.ts': module(`op.addColumn('users', { name: 'x', type: 'text' })`, null),
    })
    expect(of(findings, 'irreversible')).toEqual(['warning 001_users migrations/001_users.sql:-', 'warning 002_x migrations/002_x.ts:-'])
    expect(findings.find((f) => f.revision === '001_users')?.message).toContain('add a `-- strata:down` section')
  })

  it('a down section (even an empty one), a down() or a change() is reversible', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY);', '-- nothing to undo'),
      '002_x.ts': `import { migration } from 'strata-migrate'
export default migration({ change(op) { op.addColumn('users', { name: 'x', type: 'text' }) } })
`,
      '003_y.ts': module(`op.addColumn('users', { name: 'y', type: 'text' })`, `op.dropColumn('users', 'y')`),
    })
    expect(of(findings, 'irreversible')).toEqual([])
  })
})

describe('table-rewrite', () => {
  it('postgres: ALTER COLUMN TYPE on an existing table (SQL and op) is a warning', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': USERS,
      '002_type.sql': sql('ALTER TABLE users ALTER COLUMN name TYPE varchar(100);', 'ALTER TABLE users ALTER COLUMN name TYPE text;'),
      '003_op.ts': module(`op.alterColumn('users', 'email', { type: 'varchar(200)' })`, `op.alterColumn('users', 'email', { type: 'text' })`),
    }, { direction: 'up' })
    expect(of(findings, 'table-rewrite')).toEqual(['warning 002_type migrations/002_type.sql:2', 'warning 003_op migrations/003_op.ts:-'])
    expect(findings.find((f) => f.rule === 'table-rewrite')?.message).toContain('ACCESS EXCLUSIVE')
  })

  it('postgres: defaults, nullability and type changes of a table created in the same migration rewrite nothing', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, name text);\nALTER TABLE users ALTER COLUMN name TYPE varchar(50);', 'DROP TABLE users;'),
      '002_defaults.sql': sql("ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';\nALTER TABLE users ALTER COLUMN name SET NOT NULL;", 'ALTER TABLE users ALTER COLUMN name DROP NOT NULL;'),
    })
    expect(of(findings, 'table-rewrite')).toEqual([])
  })

  for (const engine of ['mysql', 'mariadb'] as const) {
    it(`${engine}: MODIFY to another type rewrites; MODIFY restating the same type does not`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': sql('CREATE TABLE users (id int PRIMARY KEY, name text, age int);', 'DROP TABLE users;'),
        '002_modify.sql': sql('ALTER TABLE users MODIFY COLUMN name varchar(100);\nALTER TABLE users MODIFY COLUMN age INT NOT NULL;', 'ALTER TABLE users MODIFY COLUMN name text;'),
      }, { direction: 'up' })
      expect(of(findings, 'table-rewrite')).toEqual(['warning 002_modify migrations/002_modify.sql:2'])
    })
  }

  it('sqlite: ops the compiler rebuilds a table for (alterColumn, constraints, dropping an indexed column) are warnings', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, name text, email text, code text);\nCREATE INDEX users_email ON users (email);', 'DROP TABLE users;'),
      '002_rebuild.ts': module([
        `op.alterColumn('users', 'name', { nullable: false })`,
        `op.addCheckConstraint('name_len', 'users', 'length(name) > 0')`,
        `op.dropColumn('users', 'email')`,
        `op.batchAlterTable('users', (b) => { b.alterColumn('code', { type: 'varchar(10)' }); b.addUniqueConstraint('users_code', ['code']) })`,
      ].join('\n    '), ''),
    })
    const rewrites = findings.filter((f) => f.rule === 'table-rewrite')
    expect(rewrites.map((f) => f.message.split(':')[0])).toEqual(['op #1 alterColumn', 'op #2 addCheckConstraint', 'op #3 dropColumn', 'op #4 batchAlterTable'])
    expect(rewrites[2]?.message).toContain('dropColumn `email`, which an index, key or foreign key uses')
    expect(rewrites.every((f) => f.severity === 'warning' && f.line === null)).toBe(true)
  })

  it('sqlite: native ALTER TABLE (add a nullable column, drop a plain column, rename) and raw SQL rebuild nothing', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, name text, note text);', 'DROP TABLE users;'),
      '002_native.ts': module([
        `op.addColumn('users', { name: 'email', type: 'text' })`,
        `op.dropColumn('users', 'note')`,
        `op.renameColumn('users', 'name', 'full_name')`,
        `op.alterColumn('fresh', 'a', { type: 'text' })`,
      ].join('\n    '), '', ''),
      '003_raw.sql': sql('ALTER TABLE users ADD COLUMN age integer;', 'ALTER TABLE users DROP COLUMN age;'),
    })
    // `fresh` was never created: an unknown table counts as existing, so only that op rewrites.
    expect(findings.filter((f) => f.rule === 'table-rewrite').map((f) => f.message.split(':')[0])).toEqual(['op #4 alterColumn'])
  })
})

describe('not-null-no-default', () => {
  for (const engine of SQL_ENGINES) {
    it(`${engine}: ADD COLUMN … NOT NULL without a default on an existing table is an error`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_age.sql': sql('ALTER TABLE users ADD COLUMN age integer NOT NULL;', 'ALTER TABLE users DROP COLUMN age;'),
      })
      expect(of(findings, 'not-null-no-default')).toEqual(['error 002_age migrations/002_age.sql:2'])
    })

    it(`${engine}: with a default, nullable, or on a table created in the same migration it is fine`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY);\nALTER TABLE users ADD COLUMN name text NOT NULL;', 'DROP TABLE users;'),
        '002_age.sql': sql('ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;\nALTER TABLE users ADD COLUMN note text;', 'ALTER TABLE users DROP COLUMN age;'),
      })
      expect(of(findings, 'not-null-no-default')).toEqual([])
    })
  }

  it('op-based: addColumn({ nullable: false }) without default is an error; with a default it is not', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': USERS,
      '002_ops.ts': module(
        `op.addColumn('users', { name: 'a', type: 'integer', nullable: false })\n    op.addColumn('users', { name: 'b', type: 'integer', nullable: false, default: 0 })`,
        `op.dropColumn('users', 'b')\n    op.dropColumn('users', 'a')`,
      ),
    })
    expect(findings.filter((f) => f.rule === 'not-null-no-default').map((f) => f.message.split(':')[0])).toEqual(['op #1 addColumn'])
  })
})

describe('blocking-index', () => {
  it('postgres: CREATE INDEX without CONCURRENTLY on an existing table (SQL and op) is a warning', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': USERS,
      '002_index.sql': sql('CREATE INDEX users_email ON users (email);', 'DROP INDEX users_email;'),
      '003_op.ts': module(`op.createIndex('users_name', 'users', ['name'])`, `op.dropIndex('users_name')`),
    })
    expect(of(findings, 'blocking-index')).toEqual(['warning 002_index migrations/002_index.sql:2', 'warning 003_op migrations/003_op.ts:-'])
  })

  it('postgres: CONCURRENTLY, or an index on a table created in the same migration, does not block', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, email text);\nCREATE INDEX users_email ON users (email);', 'DROP TABLE users;'),
      '002_index.sql': sql('CREATE INDEX CONCURRENTLY users_email2 ON users (email);', 'DROP INDEX CONCURRENTLY users_email2;', '-- strata:no-transaction\n'),
      '003_op.ts': module(`op.createIndex('users_e3', 'users', ['email'], { concurrently: true })`, `op.dropIndex('users_e3', { concurrently: true })`, 'transactional: false,'),
    })
    expect(of(findings, 'blocking-index')).toEqual([])
  })

  for (const engine of ['sqlite', 'mysql'] as const) {
    it(`${engine}: the rule is PostgreSQL's only`, async () => {
      const findings = await lint(engine, { '001_users.sql': USERS, '002_index.sql': sql('CREATE INDEX users_email ON users (email);', 'DROP INDEX users_email ON users;') })
      expect(of(findings, 'blocking-index')).toEqual([])
    })
  }
})

describe('rename-breaks-app', () => {
  for (const engine of SQL_ENGINES) {
    it(`${engine}: renaming an existing table or column is a warning`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_rename.sql': sql('ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE users RENAME TO people;', 'ALTER TABLE people RENAME TO users;\nALTER TABLE users RENAME COLUMN full_name TO name;'),
      }, { direction: 'up' })
      expect(of(findings, 'rename-breaks-app')).toEqual(['warning 002_rename migrations/002_rename.sql:2', 'warning 002_rename migrations/002_rename.sql:3'])
    })

    it(`${engine}: renames inside the migration that created the table break nothing`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, name text);\nALTER TABLE users RENAME COLUMN name TO full_name;', 'DROP TABLE users;'),
      })
      expect(of(findings, 'rename-breaks-app')).toEqual([])
    })
  }

  it('op-based renameTable / renameColumn are warnings', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': USERS,
      '002_ops.ts': module(`op.renameColumn('users', 'name', 'full_name')\n    op.renameTable('users', 'people')`, `op.renameTable('people', 'users')\n    op.renameColumn('users', 'full_name', 'name')`),
    }, { direction: 'up' })
    expect(findings.filter((f) => f.rule === 'rename-breaks-app').map((f) => f.message.split(':')[0])).toEqual(['op #1 renameColumn', 'op #2 renameTable'])
  })
})

describe('ddl-with-backfill', () => {
  for (const engine of ['sqlite', 'postgres'] as const) {
    it(`${engine}: a transactional migration that alters a table and updates its rows is a warning at the update`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_backfill.sql': sql("ALTER TABLE users ADD COLUMN status text;\nUPDATE users SET status = 'active';", 'ALTER TABLE users DROP COLUMN status;'),
      })
      expect(of(findings, 'ddl-with-backfill')).toEqual(['warning 002_backfill migrations/002_backfill.sql:3'])
    })

    it(`${engine}: no-transaction migrations, and rows written into a table the migration created, are fine`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_backfill.sql': sql("ALTER TABLE users ADD COLUMN status text;\nUPDATE users SET status = 'active';", 'ALTER TABLE users DROP COLUMN status;', '-- strata:no-transaction\n'),
        '003_seed.sql': sql("CREATE TABLE roles (id integer PRIMARY KEY, name text);\nINSERT INTO roles (id, name) VALUES (1, 'admin');", 'DROP TABLE roles;'),
      })
      expect(of(findings, 'ddl-with-backfill')).toEqual([])
    })
  }

  it('op-based: addColumn then execute(UPDATE …) is a warning at the execute op', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': USERS,
      '002_ops.ts': module(`op.addColumn('users', { name: 'status', type: 'text' })\n    op.execute('UPDATE users SET status = ? WHERE status IS NULL', ['active'])`, `op.dropColumn('users', 'status')`),
    })
    expect(findings.filter((f) => f.rule === 'ddl-with-backfill').map((f) => f.message.split(':')[0])).toEqual(['op #2 execute'])
  })

  it('mysql: the rule does not apply (no transactional DDL): mysql-mixed-ddl-dml does', async () => {
    const findings = await lint('mysql', {
      '001_users.sql': USERS,
      '002_backfill.sql': sql("ALTER TABLE users ADD COLUMN status text;\nUPDATE users SET status = 'active';", 'ALTER TABLE users DROP COLUMN status;'),
    })
    expect(of(findings, 'ddl-with-backfill')).toEqual([])
    expect(of(findings, 'mysql-mixed-ddl-dml')).toEqual(['warning 002_backfill migrations/002_backfill.sql:3'])
  })
})

describe('fk-without-index', () => {
  const ORDERS = 'CREATE TABLE orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id));'
  for (const engine of ['sqlite', 'postgres'] as const) {
    it(`${engine}: a foreign key whose columns no index leads with is a warning`, async () => {
      const findings = await lint(engine, { '001_users.sql': USERS, '002_orders.sql': sql(ORDERS, 'DROP TABLE orders;') })
      expect(of(findings, 'fk-without-index')).toEqual(['warning 002_orders migrations/002_orders.sql:2'])
      expect(findings.find((f) => f.rule === 'fk-without-index')?.message).toContain('`orders(user_id)` → `users`')
    })

    it(`${engine}: an index created later in the migration, or a key leading with the columns, covers it`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_orders.sql': sql(`${ORDERS}\nCREATE INDEX orders_user ON orders (user_id, id);`, 'DROP TABLE orders;'),
        '003_links.sql': sql('CREATE TABLE links (user_id integer REFERENCES users (id), other integer, PRIMARY KEY (user_id, other));', 'DROP TABLE links;'),
      })
      expect(of(findings, 'fk-without-index')).toEqual([])
    })
  }

  it('op-based addForeignKey without an index is a warning; with createIndex after it, not', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY);\nCREATE TABLE orders (id integer PRIMARY KEY, user_id integer, buyer_id integer);', 'DROP TABLE orders;\nDROP TABLE users;'),
      '002_fk.ts': module([
        `op.addForeignKey('orders_user', 'orders', ['user_id'], 'users', ['id'])`,
        `op.addForeignKey('orders_buyer', 'orders', ['buyer_id'], 'users', ['id'])`,
        `op.createIndex('orders_buyer_idx', 'orders', ['buyer_id'], { concurrently: true })`,
      ].join('\n    '), `op.dropConstraint('orders_buyer', 'orders')\n    op.dropConstraint('orders_user', 'orders')`, 'transactional: false,'),
    })
    expect(findings.filter((f) => f.rule === 'fk-without-index').map((f) => f.message.split(':')[0])).toEqual(['op #1 addForeignKey'])
  })

  it('mysql: InnoDB indexes foreign keys itself, so the rule does not apply', async () => {
    const findings = await lint('mysql', { '001_users.sql': USERS, '002_orders.sql': sql(ORDERS, 'DROP TABLE orders;') })
    expect(of(findings, 'fk-without-index')).toEqual([])
  })
})

describe('mysql-mixed-ddl-dml', () => {
  for (const engine of ['mysql', 'mariadb'] as const) {
    it(`${engine}: DDL and data changes in one migration are a warning at the first data change`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_seed.sql': sql("CREATE TABLE roles (id int PRIMARY KEY, name text);\nINSERT INTO roles (id, name) VALUES (1, 'admin');", 'DROP TABLE roles;'),
      })
      expect(of(findings, 'mysql-mixed-ddl-dml')).toEqual(['warning 002_seed migrations/002_seed.sql:3'])
    })

    it(`${engine}: a migration of only DDL, or only data changes, is fine`, async () => {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_data.sql': sql("UPDATE users SET name = 'x' WHERE name IS NULL;", "UPDATE users SET name = NULL WHERE name = 'x';"),
      })
      expect(of(findings, 'mysql-mixed-ddl-dml')).toEqual([])
    })
  }

  it('op-based: addColumn and execute(INSERT) mix', async () => {
    const findings = await lint('mysql', {
      '001_users.sql': USERS,
      '002_ops.ts': module(`op.addColumn('users', { name: 'role', type: 'text' })\n    op.execute("INSERT INTO users (id, role) VALUES (?, 'admin')", [1])`, `op.dropColumn('users', 'role')`),
    }, { direction: 'up' })
    expect(findings.filter((f) => f.rule === 'mysql-mixed-ddl-dml').map((f) => f.message.split(':')[0])).toEqual(['op #2 execute'])
  })

  it('postgres and sqlite: the rule is MySQL\'s only', async () => {
    for (const engine of ['postgres', 'sqlite'] as const) {
      const findings = await lint(engine, {
        '001_users.sql': USERS,
        '002_seed.sql': sql("CREATE TABLE roles (id int PRIMARY KEY, name text);\nINSERT INTO roles (id, name) VALUES (1, 'admin');", 'DROP TABLE roles;'),
      })
      expect(of(findings, 'mysql-mixed-ddl-dml')).toEqual([])
    }
  })
})

describe('sqlite-rebuild-cascade', () => {
  const FAMILY = sql(
    'CREATE TABLE parents (id integer PRIMARY KEY, name text);\nCREATE TABLE children (id integer PRIMARY KEY, parent_id integer REFERENCES parents (id) ON DELETE CASCADE);\nCREATE INDEX children_parent ON children (parent_id);',
    'DROP TABLE children;\nDROP TABLE parents;',
  )

  it('a rebuild op, or a raw DROP TABLE, of a table that ON DELETE CASCADE children reference is a warning', async () => {
    const findings = await lint('sqlite', {
      '001_family.sql': FAMILY,
      '002_rebuild.ts': module(`op.alterColumn('parents', 'name', { nullable: false })`, `op.alterColumn('parents', 'name', { nullable: true })`),
      '003_manual.sql': sql(
        'CREATE TABLE parents_new (id integer PRIMARY KEY, name text NOT NULL);\nINSERT INTO parents_new SELECT * FROM parents;\nDROP TABLE parents;\nALTER TABLE parents_new RENAME TO parents;',
        'SELECT 1;',
      ),
    }, { direction: 'up' })
    expect(of(findings, 'sqlite-rebuild-cascade')).toEqual(['warning 002_rebuild migrations/002_rebuild.ts:-', 'warning 003_manual migrations/003_manual.sql:4'])
    const message = findings.find((f) => f.rule === 'sqlite-rebuild-cascade')?.message ?? ''
    expect(message).toContain('`children(parent_id)`')
    expect(message).toContain('foreign_keys off')
    expect(message).toContain('deletes every child row')
  })

  it('a rebuild of the child table, or of a parent whose children do not cascade, is fine', async () => {
    const findings = await lint('sqlite', {
      '001_family.sql': FAMILY,
      '002_child.ts': module(`op.alterColumn('children', 'parent_id', { nullable: false })`),
      '003_plain.sql': sql('CREATE TABLE owners (id integer PRIMARY KEY, name text);\nCREATE TABLE pets (id integer PRIMARY KEY, owner_id integer REFERENCES owners (id));', 'DROP TABLE pets;\nDROP TABLE owners;'),
      '004_owner.ts': module(`op.alterColumn('owners', 'name', { nullable: false })`),
    })
    expect(of(findings, 'sqlite-rebuild-cascade')).toEqual([])
  })

  it('postgres: the rule is SQLite\'s only', async () => {
    const findings = await lint('postgres', { '001_family.sql': FAMILY, '002_drop.sql': sql('DROP TABLE children;\nDROP TABLE parents;', 'SELECT 1;') })
    expect(of(findings, 'sqlite-rebuild-cascade')).toEqual([])
  })
})

describe('unparsed', () => {
  it('sqlite: a statement SQLite accepts but the parser cannot read is info, and no other rule looks at it', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': USERS,
      // `RENAME a TO b` without COLUMN is valid SQLite; node-sql-parser's grammar lacks it.
      '002_rename.sql': sql('ALTER TABLE users RENAME name TO full_name;', 'ALTER TABLE users RENAME COLUMN full_name TO name;'),
    }, { direction: 'up', unparsed: true })
    expect(findings.map((f) => `${f.rule} ${f.severity} ${f.line}`)).toEqual(['unparsed info 2'])
    expect(findings[0]?.message).toMatch(/^the SQLite parser cannot read this statement \(syntax error at or near .*\); no other rule checked it$/)
  })

  it('postgres: PostgreSQL\'s own parser names the error', async () => {
    const findings = await lint('postgres', { '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY);\nDROP TABEL users;', 'SELECT 1;') }, { unparsed: true })
    expect(findings.map((f) => `${f.rule} ${f.severity} ${f.line}`)).toEqual(['unparsed info 3'])
    expect(findings[0]?.message).toContain('the PostgreSQL parser cannot read this statement (syntax error at or near "TABEL")')
  })

  it('mysql: unparsed in op.execute text of a module too', async () => {
    const findings = await lint('mysql', {
      '001_users.sql': USERS,
      '002_ops.ts': module(`op.execute('ALTER TABLE users ALTER COLUMN name SET DEFAULT ?', ['x'])`, `op.execute('ALTER TABLE users ALTER COLUMN name DROP DEFAULT')`),
    }, { direction: 'up', unparsed: true })
    expect(findings.map((f) => `${f.rule} ${f.severity} ${f.line}`)).toEqual(['unparsed info null'])
    expect(findings[0]?.message).toMatch(/^op #1 execute: the MySQL parser cannot read/)
  })

  it('a module that reads the database and then fails on the empty result is unparsed past that point', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': USERS,
      '002_read.ts': module(`op.dropColumn('users', 'email')\n    const [row] = await op.query('SELECT count(*) AS n FROM users')\n    if (row.n > 0) op.dropTable('users')`, `op.addColumn('users', { name: 'email', type: 'text' })`),
    }, { direction: 'up', unparsed: true })
    expect(findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['drop-column error', 'unparsed info'])
    expect(findings[1]?.message).toMatch(/^up\(\) of 002_read threw after reading the database/)
  })
})

describe('lint-ignore', () => {
  it('inline: `-- strata:lint-ignore RULE` silences those rules for the next statement only', async () => {
    const findings = await lint('postgres', {
      '001_users.sql': USERS,
      '002_drop.sql': sql(
        '-- strata:lint-ignore drop-column, rename-breaks-app\nALTER TABLE users DROP COLUMN email;\nALTER TABLE users DROP COLUMN name;',
        'ALTER TABLE users ADD COLUMN name text;\nALTER TABLE users ADD COLUMN email text;',
      ),
    }, { direction: 'up' })
    expect(of(findings, 'drop-column')).toEqual(['error 002_drop migrations/002_drop.sql:4'])
  })

  it('header: silences the rules for the whole file, up and down', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': sql('CREATE TABLE users (id integer PRIMARY KEY, email text);\nDROP TABLE users;\nCREATE TABLE users (id integer PRIMARY KEY, email text);', undefined, '-- strata:lint-ignore irreversible, drop-table\n'),
      '002_drop.sql': sql('DROP TABLE users;', 'CREATE TABLE users (id integer PRIMARY KEY);\nDROP TABLE users;', '-- strata:lint-ignore drop-table\n'),
    })
    expect(findings).toEqual([])
  })

  it('header in a .up.sql/.down.sql pair covers the .down.sql too', async () => {
    const findings = await lint('sqlite', {
      '001_users.up.sql': 'CREATE TABLE users (id integer PRIMARY KEY);\n',
      '001_users.down.sql': 'DROP TABLE users;\n',
      '002_drop.up.sql': '-- strata:lint-ignore drop-table\nDROP TABLE users;\n',
      '002_drop.down.sql': 'CREATE TABLE users (id integer PRIMARY KEY);\n',
    })
    expect(findings.map((f) => `${f.rule} ${f.file}:${f.line}`)).toEqual(['drop-table migrations/001_users.down.sql:1'])
  })

  it('op.lintIgnore("RULE") silences the next op only', async () => {
    const findings = await lint('sqlite', {
      '001_users.sql': USERS,
      '002_ops.ts': module(`op.lintIgnore('drop-column')\n    op.dropColumn('users', 'email')\n    op.dropColumn('users', 'name')`, `op.addColumn('users', { name: 'name', type: 'text' })\n    op.addColumn('users', { name: 'email', type: 'text' })`),
    })
    expect(findings.filter((f) => f.rule === 'drop-column').map((f) => f.message.split(':')[0])).toEqual(['op #2 dropColumn'])
  })

  it('irreversible, about the whole migration, is silenced by an op.lintIgnore anywhere in up()', async () => {
    const findings = await lint('sqlite', {
      '001_users.ts': module(`op.createTable('users', [{ name: 'id', type: 'integer', primaryKey: true }])\n    op.lintIgnore('irreversible')\n    op.addColumn('users', { name: 'a', type: 'text' })`, null),
      '002_x.ts': module(`op.addColumn('users', { name: 'b', type: 'text' })`, null),
    })
    expect(findings.map((f) => `${f.rule} ${f.revision}`)).toEqual(['irreversible 002_x'])
  })

  it('an ignore naming an unknown rule is E_MIGRATION_FILE with the closest id', async () => {
    await expect(lint('sqlite', { '001_users.sql': sql('-- strata:lint-ignore drop-tabel\nCREATE TABLE users (id integer);', 'DROP TABLE users;') }))
      .rejects.toMatchObject({ code: 'E_MIGRATION_FILE', message: expect.stringContaining('unknown rule `drop-tabel`'), hint: 'did you mean `drop-table`?' })
    await expect(lint('sqlite', { '001_users.ts': module(`op.lintIgnore('not-null')\n    op.createTable('users', [{ name: 'id', type: 'integer' }])`) }))
      .rejects.toMatchObject({ code: 'E_MIGRATION_FILE', hint: 'did you mean `not-null-no-default`?' })
  })
})

describe('config lint.rules', () => {
  const FILES = { '001_users.sql': USERS, '002_drop.sql': sql('ALTER TABLE users DROP COLUMN email;\nALTER TABLE users RENAME COLUMN name TO full_name;') }

  it('overrides a rule\'s severity, and `off` silences it', async () => {
    const findings = await lint('postgres', FILES, { direction: 'up', rules: { 'drop-column': 'warning', irreversible: 'off', 'rename-breaks-app': 'error' } })
    expect(findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['drop-column warning', 'rename-breaks-app error'])
  })

  it('data-loss rules stay info in a down whatever their level; off is off there too', async () => {
    const info = await lint('sqlite', { '001_users.sql': USERS }, { rules: { 'drop-table': 'error' } })
    expect(of(info, 'drop-table')).toEqual(['info 001_users migrations/001_users.sql:4'])
    const off = await lint('sqlite', { '001_users.sql': USERS }, { rules: { 'drop-table': 'off' } })
    expect(off).toEqual([])
  })

  it('an unknown rule id is E_CONFIG naming the closest one', async () => {
    await expect(lint('sqlite', FILES, { rules: { 'drop-colum': 'warning' } }))
      .rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('unknown rule `drop-colum`'), hint: 'did you mean `drop-column`?' })
  })
})

describe('selection', () => {
  const FILES = { '001_users.sql': USERS, '002_drop.sql': sql('ALTER TABLE users DROP COLUMN email;', 'ALTER TABLE users ADD COLUMN email text;') }

  it('revisions: only those are reported, against the schema the earlier ones built', async () => {
    const findings = await lint('postgres', FILES, { revisions: ['002'] })
    expect(findings.map((f) => `${f.rule} ${f.revision}`)).toEqual(['drop-column 002_drop'])
  })

  it('a migration only replayed for the model cannot fail the lint of the selected ones', async () => {
    const files = { ...FILES, '001_users.sql': sql('-- strata:lint-ignore drop-tabel\nCREATE TABLE users (id integer PRIMARY KEY, email text);', 'DROP TABLE users;') }
    const findings = await lint('postgres', files, { revisions: ['002_drop'], direction: 'up' })
    expect(findings.map((f) => `${f.rule} ${f.revision}`)).toEqual(['drop-column 002_drop'])
    await expect(lint('postgres', files)).rejects.toMatchObject({ code: 'E_MIGRATION_FILE' })
  })

  it('an unknown revision is E_UNKNOWN_REVISION', async () => {
    await expect(lint('postgres', FILES, { revisions: ['009_nope'] })).rejects.toMatchObject({ code: 'E_UNKNOWN_REVISION' })
  })

  it('direction: up leaves the downs out', async () => {
    const findings = await lint('postgres', FILES, { direction: 'up' })
    expect(findings.map((f) => `${f.rule} ${f.revision}`)).toEqual(['drop-column 002_drop'])
  })
})
