import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { DialectName } from '../../src/dialects/dialect.js'
import { StrataError } from '../../src/errors/index.js'
import { parseSqlMigration, parseSqlPair } from '../../src/sql/index.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/sql/migrations/', import.meta.url))

describe('parseSqlMigration golden files (test/fixtures/sql/migrations)', () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  it.each(files)('%s', (file) => {
    const dialect = file.split('-')[0] as DialectName
    const text = readFileSync(join(FIXTURES, file), 'utf8')
    const expected: unknown = JSON.parse(
      readFileSync(join(FIXTURES, file.replace(/\.sql$/, '.json')), 'utf8'),
    )
    expect(parseSqlMigration(text, file, dialect)).toStrictEqual(expected)
  })
})

describe('parseSqlMigration', () => {
  it('reads every header', () => {
    const text = [
      '-- strata:revision 003_add_x',
      '-- strata:down-revision 001_a, 002_b',
      '-- strata:depends-on 000_base, reporting@head',
      '-- strata:depends-on 000_base',
      '-- strata:branch-labels reporting',
      '-- strata:description  Add x to y ',
      '-- strata:no-transaction',
      '-- strata:lint-ignore drop-column, blocking-index',
      '-- strata:lint-ignore not-null-no-default',
      '-- strata:up',
      'SELECT 1;',
    ].join('\n')
    expect(parseSqlMigration(text, 'm.sql', 'postgres').headers).toStrictEqual({
      revision: '003_add_x',
      downRevision: ['001_a', '002_b'],
      dependsOn: ['000_base', 'reporting@head'],
      branchLabels: ['reporting'],
      description: 'Add x to y',
      transactional: false,
      lintIgnore: ['drop-column', 'blocking-index', 'not-null-no-default'],
    })
  })

  it('reads `none` as a root and leaves absent headers undefined', () => {
    const none = parseSqlMigration(
      '-- strata:down-revision NONE\n-- strata:up\n',
      'm.sql',
      'sqlite',
    )
    expect(none.headers.downRevision).toBeNull()
    const absent = parseSqlMigration('-- strata:up\n', 'm.sql', 'sqlite')
    expect(absent.headers.downRevision).toBeUndefined()
    expect(absent.headers.revision).toBeUndefined()
    expect(absent.up).toEqual([])
    expect(absent.down).toBeUndefined()
  })

  it('accepts markers and headers with other spellings', () => {
    const text = '--strata:revision a\n  -- STRATA:UP\nSELECT 1;\n-- strata: down\nSELECT 2;\n'
    const parsed = parseSqlMigration(text, 'm.sql', 'sqlite')
    expect(parsed.headers.revision).toBe('a')
    expect(parsed.up).toEqual([{ sql: 'SELECT 1', line: 3, file: 'm.sql' }])
    expect(parsed.down).toEqual([{ sql: 'SELECT 2', line: 5, file: 'm.sql' }])
  })

  it('takes transaction:false on either dbmate marker', () => {
    expect(
      parseSqlMigration('-- migrate:up\n-- migrate:down transaction:false\n', 'm.sql', 'mysql')
        .headers.transactional,
    ).toBe(false)
    expect(
      parseSqlMigration('-- migrate:up transaction:true\n', 'm.sql', 'mysql').headers.transactional,
    ).toBe(true)
  })

  it('ignores markers inside strings and block comments', () => {
    const text = "-- strata:up\nSELECT '\n-- strata:down\n';\n/*\n-- strata:down\n*/\n"
    const parsed = parseSqlMigration(text, 'm.sql', 'sqlite')
    expect(parsed.up).toHaveLength(1)
    expect(parsed.down).toBeUndefined()
  })

  it('leaves `-- migrate:` comments that are not directives alone', () => {
    const text = '-- migrate: this note is a comment\n-- strata:up\nSELECT 1;'
    expect(parseSqlMigration(text, 'm.sql', 'sqlite').up).toHaveLength(1)
  })
})

describe('parseSqlMigration errors', () => {
  const fail = (text: string, dialect: DialectName = 'sqlite'): StrataError =>
    captureError(() => parseSqlMigration(text, 'migrations/003_x.sql', dialect))

  it('refuses a file without an up section', () => {
    const error = fail('CREATE TABLE a (x INT);\n-- strata:down\nDROP TABLE a;')
    expect(error.code).toBe('E_MIGRATION_FILE')
    expect(error.details).toMatchObject({ file: 'migrations/003_x.sql', line: 1 })
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:1: no \`-- strata:up\` section; a sectioned SQL migration needs one"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"put \`-- strata:up\` on its own line above the migration's SQL, and \`-- strata:down\` above the SQL that reverts it"`,
    )
    expect(fail('--strata:up\nSELECT 1;', 'mysql').hint).toContain('MySQL needs a space after `--`')
  })

  it('refuses a repeated marker, dbmate spelling included', () => {
    const error = fail('-- strata:up\nSELECT 1;\n-- migrate:up\nSELECT 2;')
    expect(error.details.line).toBe(3)
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:3: \`-- migrate:up\` appears a second time (first on line 1)"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"keep one up section and at most one down section; each marker may appear once"`,
    )
    expect(fail('-- strata:up\n-- strata:down\n-- strata:down\n').details.line).toBe(3)
  })

  it('refuses a down section before the up section', () => {
    const error = fail('-- strata:down\nDROP TABLE a;\n-- strata:up\nCREATE TABLE a (x INT);')
    expect(error.details.line).toBe(1)
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:1: \`-- strata:down\` comes before \`-- strata:up\` (line 3)"`,
    )
    expect(error.hint).toMatchInlineSnapshot(`"put the up section first, then the down section"`)
  })

  it('refuses SQL before the first marker', () => {
    const error = fail('-- strata:revision a\n\nCREATE TABLE a (x INT);\n-- strata:up\n')
    expect(error.details.line).toBe(3)
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:3: SQL before the first section marker \`-- strata:up\` (line 4)"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"move the statement below the marker, or comment it out; only header comments may come before it"`,
    )
  })

  it('refuses an unknown directive and names the closest one', () => {
    const error = fail('-- strata:revison 003_x\n-- strata:up\n')
    expect(error.details.line).toBe(1)
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:1: unknown directive \`-- strata:revison\`; did you mean \`-- strata:revision\`?"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"the known directives are strata:up, strata:down, strata:revision, strata:down-revision, strata:depends-on, strata:branch-labels, strata:description, strata:no-transaction, strata:lock-timeout, strata:statement-timeout, strata:lint-ignore; for a plain comment, drop the \`strata:\`"`,
    )
    expect(fail('-- strata:up\n-- strata:dwn\n').message).toContain(
      'did you mean `-- strata:down`?',
    )
    expect(fail('-- strata:notransaction\n-- strata:up\n').message).toContain(
      '`-- strata:no-transaction`',
    )
    expect(fail('-- migrate:donw\n').message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:1: unknown directive \`-- migrate:donw\`; did you mean \`-- migrate:down\`?"`,
    )
  })

  it('refuses a header after the first marker', () => {
    const error = fail('-- strata:up\nSELECT 1;\n-- strata:revision 003_x\n')
    expect(error.details.line).toBe(3)
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:3: header \`-- strata:revision\` comes after the first section marker (line 1)"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"move it above \`-- strata:up\`; headers describe the whole file"`,
    )
    expect(fail('-- strata:up\n-- strata:down\n-- strata:no-transaction\n').details.line).toBe(3)
  })

  it('keeps lint-ignore after the first marker inside the statement', () => {
    const parsed = parseSqlMigration(
      '-- strata:up\n-- strata:lint-ignore drop-table\nDROP TABLE a;\n',
      'm.sql',
      'sqlite',
    )
    expect(parsed.headers.lintIgnore).toEqual([])
    expect(parsed.up).toEqual([
      { sql: '-- strata:lint-ignore drop-table\nDROP TABLE a', line: 3, file: 'm.sql' },
    ])
  })

  it('refuses a directive that shares its line with SQL', () => {
    const error = fail('-- strata:up\nSELECT 1; -- strata:down\n')
    expect(error.details.line).toBe(2)
    expect(error.message).toMatchInlineSnapshot(
      `"migrations/003_x.sql:2: \`-- strata:down\` must be on a line of its own"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"move the directive to its own line; after SQL on the same line it is read as a comment"`,
    )
  })

  it('refuses malformed header values', () => {
    const messages = [
      '-- strata:revision a b\n-- strata:up',
      '-- strata:revision ../x\n-- strata:up',
      '-- strata:down-revision none, a\n-- strata:up',
      '-- strata:down-revision a..b\n-- strata:up',
      '-- strata:revision a\n-- strata:revision b\n-- strata:up',
      '-- strata:description\n-- strata:up',
      '-- strata:no-transaction yes\n-- strata:up',
      '-- strata:depends-on a,,b\n-- strata:up',
      '-- strata:branch-labels x y\n-- strata:up',
      '-- strata:up\n-- strata:lint-ignore\nSELECT 1;',
      '-- migrate:up transaction:maybe',
    ].map((text) => {
      const error = fail(text)
      expect(error.code).toBe('E_MIGRATION_FILE')
      return `${error.message} | ${error.hint}`
    })
    expect(messages).toMatchInlineSnapshot(`
      [
        "migrations/003_x.sql:1: \`-- strata:revision\` takes one revision id (got \`a b\`) | a migration has one id; parents go in \`-- strata:down-revision\`",
        "migrations/003_x.sql:1: \`-- strata:revision\` has an invalid item \`../x\` | use only letters, digits, \`_\`, \`.\` and \`-\`",
        "migrations/003_x.sql:1: \`-- strata:down-revision\` mixes \`none\` with revisions | write \`none\` alone for a root, or list the parents",
        "migrations/003_x.sql:1: \`-- strata:down-revision\` has an invalid item \`a..b\` | an id may not contain \`..\` or name a path",
        "migrations/003_x.sql:2: \`-- strata:revision\` is given twice | keep one line; only lists (depends-on, branch-labels, lint-ignore) may repeat",
        "migrations/003_x.sql:1: \`-- strata:description\` needs a value | write it as \`-- strata:description Add x to y\`",
        "migrations/003_x.sql:1: \`-- strata:no-transaction\` takes no value (got \`yes\`) | write \`-- strata:no-transaction\` alone on its line",
        "migrations/003_x.sql:1: \`-- strata:depends-on\` has an empty item in \`a,,b\` | separate the items with single commas",
        "migrations/003_x.sql:1: \`-- strata:branch-labels\` has an invalid item \`x y\` | separate the items with commas",
        "migrations/003_x.sql:2: \`-- strata:lint-ignore\` needs a value | write it as \`-- strata:lint-ignore drop-column, blocking-index\`",
        "migrations/003_x.sql:1: \`-- migrate:up\` has an unknown option \`transaction:maybe\` | the only option is \`transaction:false\` (the same as \`-- strata:no-transaction\`)",
      ]
    `)
  })

  it('reports an unterminated string with the file and the line in the whole file', () => {
    const error = fail("-- strata:up\nSELECT 1;\n-- strata:down\nSELECT 'oops;\n")
    expect(error.details).toMatchObject({ file: 'migrations/003_x.sql', line: 4 })
    expect(error.message).toMatchInlineSnapshot(`"migrations/003_x.sql:4: unterminated string '"`)
  })
})

describe('parseSqlPair', () => {
  it('reads headers at the top of the .up.sql and keeps line numbers', () => {
    const up =
      '-- strata:revision 004_pair\n-- strata:lint-ignore drop-table\n-- adds a\n\nCREATE TABLE a (x INT);\n-- strata:lint-ignore drop-table\nDROP TABLE b;\n'
    const parsed = parseSqlPair(
      up,
      '004_pair.up.sql',
      'DROP TABLE a;\n',
      '004_pair.down.sql',
      'sqlite',
    )
    expect(parsed).toStrictEqual({
      headers: {
        revision: '004_pair',
        dependsOn: [],
        branchLabels: [],
        transactional: true,
        lintIgnore: ['drop-table'],
      },
      up: [
        { sql: '-- adds a\n\nCREATE TABLE a (x INT)', line: 5, file: '004_pair.up.sql' },
        { sql: '-- strata:lint-ignore drop-table\nDROP TABLE b', line: 7, file: '004_pair.up.sql' },
      ],
      down: [{ sql: 'DROP TABLE a', line: 1, file: '004_pair.down.sql' }],
    })
  })

  it('has no down without a .down.sql, and an empty one for a comment-only .down.sql', () => {
    expect(
      parseSqlPair('SELECT 1;', 'a.up.sql', undefined, undefined, 'postgres').down,
    ).toBeUndefined()
    expect(
      parseSqlPair('-- nothing', 'a.up.sql', '-- nothing', 'a.down.sql', 'postgres'),
    ).toStrictEqual({
      headers: { dependsOn: [], branchLabels: [], transactional: true, lintIgnore: [] },
      up: [],
      down: [],
    })
  })

  it('refuses section markers', () => {
    const error = captureError(() =>
      parseSqlPair('-- strata:up\nSELECT 1;', 'a.up.sql', undefined, undefined, 'sqlite'),
    )
    expect(error.details).toMatchObject({ file: 'a.up.sql', line: 1 })
    expect(error.message).toMatchInlineSnapshot(
      `"a.up.sql:1: section marker \`-- strata:up\` in a .up.sql/.down.sql pair"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"remove it: in a pair the .up.sql file is the up and the .down.sql file the down"`,
    )
    const inDown = captureError(() =>
      parseSqlPair('SELECT 1;', 'a.up.sql', 'SELECT 2;\n-- migrate:down\n', 'a.down.sql', 'sqlite'),
    )
    expect(inDown.details).toMatchObject({ file: 'a.down.sql', line: 2 })
  })

  it('refuses a header after the first statement of the .up.sql', () => {
    const error = captureError(() =>
      parseSqlPair(
        'SELECT 1;\n-- strata:no-transaction\n',
        'a.up.sql',
        undefined,
        undefined,
        'sqlite',
      ),
    )
    expect(error.details).toMatchObject({ file: 'a.up.sql', line: 2 })
    expect(error.message).toMatchInlineSnapshot(
      `"a.up.sql:2: header \`-- strata:no-transaction\` comes after SQL (line 1)"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"move it to the top of the file, above the first statement"`,
    )
  })

  it('refuses headers in the .down.sql', () => {
    const error = captureError(() =>
      parseSqlPair(
        'SELECT 1;',
        'a.up.sql',
        '-- strata:revision a\nSELECT 2;',
        'a.down.sql',
        'sqlite',
      ),
    )
    expect(error.details).toMatchObject({ file: 'a.down.sql', line: 1 })
    expect(error.message).toMatchInlineSnapshot(
      `"a.down.sql:1: header \`-- strata:revision\` in the .down.sql file"`,
    )
    expect(error.hint).toMatchInlineSnapshot(
      `"move it to the top of a.up.sql; the headers of a pair open its .up.sql file"`,
    )
  })
})

function captureError(fn: () => unknown): StrataError {
  try {
    fn()
  } catch (error) {
    if (error instanceof StrataError) return error
    throw error
  }
  throw new Error('expected a StrataError')
}
