import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { guarded, reportOf, type CheckResult } from '../../src/checks/check.js'
import { compareExpectation, runUserCheck } from '../../src/checks/user-checks.js'
import type { UserCheck } from '../../src/config/schema.js'
import type { Connection } from '../../src/dialects/dialect.js'
import { openSqlite } from '../../src/dialects/sqlite/sqlite-driver.js'
import { StrataError } from '../../src/errors/index.js'

const node = process.execPath

let dir: string
let conn: Connection

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-user-checks-'))
  const path = join(dir, 'checks.db')
  conn = await openSqlite({ dialect: 'sqlite', raw: `sqlite:${path}`, redacted: `sqlite:${path}`, path })
  for (const sql of [
    'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)',
    "INSERT INTO t (name, score) VALUES ('ann', 1.5), ('bob', 2.5), ('cy', NULL)",
    'CREATE TABLE empty (x INTEGER)',
  ]) await conn.execute({ sql, params: [] })
})

afterAll(async () => {
  await conn.close()
  rmSync(dir, { recursive: true, force: true })
})

function run(check: UserCheck, extra: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CheckResult> {
  return runUserCheck(check, { conn, cwd: extra.cwd ?? dir, ...(extra.env ? { env: extra.env } : {}) })
}

describe('reportOf', () => {
  it('is ok when nothing failed, warnings included', () => {
    const checks: CheckResult[] = [{ name: 'a', status: 'pass', message: '' }, { name: 'b', status: 'warn', message: '' }]
    expect(reportOf(checks)).toEqual({ ok: true, checks })
    expect(reportOf([])).toEqual({ ok: true, checks: [] })
  })

  it('is not ok when one check failed', () => {
    const report = reportOf([{ name: 'a', status: 'pass', message: '' }, { name: 'b', status: 'fail', message: 'x' }])
    expect(report.ok).toBe(false)
    expect(report.checks.map((c) => c.name)).toEqual(['a', 'b'])
  })
})

describe('guarded', () => {
  it('names the result of a body that returns', async () => {
    expect(await guarded('disk', async () => ({ status: 'warn', message: 'low' }))).toEqual({ name: 'disk', status: 'warn', message: 'low' })
  })

  it('turns a thrown error into a fail naming it', async () => {
    const result = await guarded('boom', async () => { throw new TypeError('x is not a function') })
    expect(result).toEqual({ name: 'boom', status: 'fail', message: 'the check could not run: TypeError: x is not a function' })
  })

  it('names the code of a StrataError and masks credentials', async () => {
    const result = await guarded('db', async () => { throw new StrataError('E_CONNECT', 'cannot reach postgres://admin:hunter2@db/app') })
    expect(result.status).toBe('fail')
    expect(result.message).toContain('E_CONNECT: cannot reach postgres://admin:')
    expect(result.message).not.toContain('hunter2')
  })

  it('survives a thrown non-error', async () => {
    expect(await guarded('odd', () => Promise.reject('just a string'))).toEqual({ name: 'odd', status: 'fail', message: 'the check could not run: just a string' })
  })
})

describe('compareExpectation', () => {
  it.each<[unknown, number | string | boolean | null, boolean]>([
    [3, 3, true], [3n, 3, true], ['3', 3, true], [3, '3', true], [3n, '3', true], ['3.0', 3, true], [2.5, 2.5, true],
    [3, 4, false], ['abc', 3, false], [null, 0, false],
    [9007199254740993n, '9007199254740993', true], [9007199254740993n, '9007199254740992', false],
    [true, true, true], [1, true, true], [1n, true, true], [0, false, true], ['t', true, true], ['false', false, true],
    [2, true, false], [0, true, false], [false, true, false], [null, false, false],
    [null, null, true], [undefined, null, true], [0, null, false], ['', null, false],
    ['ok', 'ok', true], ['OK', 'ok', false], [true, 'true', true], [0, 'ok', false],
  ])('%s = %s → %s', (actual, expectation, ok) => {
    expect(compareExpectation(actual, expectation).ok).toBe(ok)
  })

  it.each<[unknown, string, boolean]>([
    [3, '>0', true], [0, '>0', false], [3, '> 2', true], [3n, '>2', true], ['10', '>9', true], [3, '>3', false],
    [3, '>=3', true], [2, '>=3', false], [2.5, '>=2.5', true],
    [2, '<3', true], [3, '<3', false], [-1, '<0', true], [2.4, '<2.5', true],
    [3, '<=3', true], [4, '<=3', false],
    [3, '!=0', true], [0, '!=0', false], ['0', '!=0', false], [null, '!=0', true],
    ['bob', '!=ann', true], ['ann', '!=ann', false], [5, '<>5', false],
    [null, '!=NULL', false], [0, '!=null', true],
    [null, '>0', false], ['abc', '>0', false], [9007199254740993n, '>9007199254740992', true],
    ['<none>', '<none>', true], [3, '<none>', false],
  ])('%s vs %s → %s', (actual, expectation, ok) => {
    expect(compareExpectation(actual, expectation).ok).toBe(ok)
  })

  it('shows the actual value as a message would', () => {
    expect(compareExpectation(3, 0).shown).toBe('3')
    expect(compareExpectation(12n, 0).shown).toBe('12')
    expect(compareExpectation('ok', 'ok').shown).toBe('"ok"')
    expect(compareExpectation(null, null).shown).toBe('NULL')
    expect(compareExpectation(Buffer.from([1, 2]), null).shown).toBe('a blob of 2 bytes')
  })
})

describe('SQL checks', () => {
  it.each<[string, boolean]>([
    ['>0', true], ['>3', false], ['>=3', true], ['>=4', false], ['<4', true], ['<3', false],
    ['<=3', true], ['<=2', false], ['!=0', true], ['!=3', false],
  ])('count(*) of 3 with expect %s → pass %s', async (expectation, pass) => {
    const result = await run({ name: 'rows', sql: 'SELECT count(*) FROM t', expect: expectation })
    expect(result.status).toBe(pass ? 'pass' : 'fail')
    expect(result.name).toBe('rows')
  })

  it('says what was returned and what was expected', async () => {
    expect(await run({ name: 'rows', sql: 'SELECT count(*)\n  FROM t', expect: '>3' }))
      .toEqual({ name: 'rows', status: 'fail', message: 'SELECT count(*) FROM t returned 3, expected >3' })
    expect(await run({ name: 'rows', sql: 'SELECT count(*) FROM t', expect: 2 }))
      .toEqual({ name: 'rows', status: 'fail', message: 'SELECT count(*) FROM t returned 3, expected 2' })
    expect((await run({ name: 'rows', sql: 'SELECT count(*) FROM t', expect: '>0' })).message).toBe('SELECT count(*) FROM t returned 3 (expected >0)')
  })

  it('compares equality forms: numbers, numeric strings, text, booleans, NULL', async () => {
    const cases: Array<[string, number | string | boolean | null, 'pass' | 'fail']> = [
      ['SELECT count(*) FROM t', 3, 'pass'],
      ['SELECT count(*) FROM t', '3', 'pass'],
      ['SELECT score FROM t WHERE name = \'bob\'', 2.5, 'pass'],
      ['SELECT score FROM t WHERE name = \'bob\'', '>2', 'pass'],
      ['SELECT score FROM t WHERE name = \'bob\'', '<2.5', 'fail'],
      ['PRAGMA integrity_check', 'ok', 'pass'],
      ['SELECT \'ok\'', 'ko', 'fail'],
      ['SELECT count(*) > 0 FROM t', true, 'pass'],
      ['SELECT count(*) > 0 FROM empty', true, 'fail'],
      ['SELECT count(*) > 0 FROM empty', false, 'pass'],
      ['SELECT max(x) FROM empty', null, 'pass'],
      ['SELECT max(x) FROM empty', '!=NULL', 'fail'],
      ['SELECT count(*) FROM empty', null, 'fail'],
      ['SELECT name FROM t ORDER BY id', '!=bob', 'pass'],
      ['SELECT name FROM t ORDER BY id', '!=ann', 'fail'],
      ['SELECT name, id FROM t ORDER BY id', 'ann', 'pass'],
    ]
    for (const [sql, expectation, status] of cases) {
      expect([sql, expectation, (await run({ name: 'eq', sql, expect: expectation })).status]).toEqual([sql, expectation, status])
    }
    expect((await run({ name: 'eq', sql: "SELECT 'ok'", expect: 'ko' })).message).toBe('SELECT \'ok\' returned "ok", expected "ko"')
    expect((await run({ name: 'eq', sql: 'SELECT max(x) FROM empty', expect: 0 })).message).toBe('SELECT max(x) FROM empty returned NULL, expected 0')
  })

  it('fails when the query returns no rows', async () => {
    expect(await run({ name: 'none', sql: 'SELECT id FROM t WHERE 0', expect: 0 }))
      .toEqual({ name: 'none', status: 'fail', message: 'SELECT id FROM t WHERE 0 returned no rows, expected 0' })
  })

  it('fails with the driver message on an SQL error', async () => {
    const result = await run({ name: 'bad', sql: 'SELECT * FROM missing_table', expect: 0 })
    expect(result.status).toBe('fail')
    expect(result.message).toBe('SELECT * FROM missing_table failed: no such table: missing_table')
  })

  it('abbreviates a long query in the message', async () => {
    const sql = `SELECT count(*) FROM t WHERE ${Array.from({ length: 30 }, (_, i) => `id <> ${i + 100}`).join(' AND ')}`
    const result = await run({ name: 'long', sql, expect: 0 })
    expect(result.message).toMatch(/^SELECT count\(\*\) FROM t WHERE id <> 100 AND .{20,}… returned 3, expected 0$/)
    expect(result.message.length).toBeLessThan(120)
  })
})

describe('HTTP checks', () => {
  let server: Server
  let base: string
  let closedPort: number

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/health') res.end('status: ready v2')
      else if (req.url === '/down') { res.statusCode = 503; res.end('maintenance') }
      else if (req.url === '/auth') res.end(`auth=${req.headers.authorization ?? 'none'}`)
      else if (req.url === '/partial') { res.writeHead(200); res.write('status: rea') }
      // '/hang' never answers
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    closedPort = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('passes on status 200 by default', async () => {
    expect(await run({ name: 'api', http: `${base}/health` })).toEqual({ name: 'api', status: 'pass', message: `GET ${base}/health returned 200` })
  })

  it('fails on a status mismatch and passes when that status is expected', async () => {
    expect(await run({ name: 'api', http: `${base}/down` })).toEqual({ name: 'api', status: 'fail', message: `GET ${base}/down returned 503, expected 200` })
    expect((await run({ name: 'api', http: `${base}/down`, status: 503 })).status).toBe('pass')
    expect((await run({ name: 'api', http: `${base}/health`, status: 204 })).message).toBe(`GET ${base}/health returned 200, expected 204`)
  })

  it('checks that the body contains a substring', async () => {
    expect(await run({ name: 'api', http: `${base}/health`, body: 'ready' }))
      .toEqual({ name: 'api', status: 'pass', message: `GET ${base}/health returned 200 and the body does contain "ready"` })
    expect(await run({ name: 'api', http: `${base}/health`, body: 'READY' }))
      .toEqual({ name: 'api', status: 'fail', message: `GET ${base}/health returned 200 but the body does not contain "READY" (body: "status: ready v2")` })
  })

  it('matches the body against /regex/flags', async () => {
    expect((await run({ name: 'api', http: `${base}/health`, body: '/READY v\\d/i' })).status).toBe('pass')
    const miss = await run({ name: 'api', http: `${base}/health`, body: '/^ready/' })
    expect(miss.status).toBe('fail')
    expect(miss.message).toContain('the body does not match /^ready/')
    const invalid = await run({ name: 'api', http: `${base}/health`, body: '/(/' })
    expect(invalid.status).toBe('fail')
    expect(invalid.message).toContain('the body pattern /(/ is not a valid regular expression')
  })

  it('takes a body with slashes that is no regex as a substring', async () => {
    expect((await run({ name: 'api', http: `${base}/health`, body: '/api/health' })).message).toContain('does not contain "/api/health"')
  })

  it('fails with a clear message when the server never answers', async () => {
    const started = Date.now()
    const result = await run({ name: 'api', http: `${base}/hang`, timeout_ms: 200 })
    expect(result).toEqual({ name: 'api', status: 'fail', message: `GET ${base}/hang timed out after 200 ms` })
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('times out while reading a body that never ends', async () => {
    const result = await run({ name: 'api', http: `${base}/partial`, body: 'ready', timeout_ms: 200 })
    expect(result).toEqual({ name: 'api', status: 'fail', message: `GET ${base}/partial timed out after 200 ms` })
  })

  it('fails naming the URL when the connection is refused', async () => {
    const result = await run({ name: 'api', http: `http://127.0.0.1:${closedPort}/health` })
    expect(result).toEqual({ name: 'api', status: 'fail', message: `GET http://127.0.0.1:${closedPort}/health failed: connection refused (ECONNREFUSED)` })
  })

  it('never prints credentials embedded in the URL', async () => {
    const refused = await run({ name: 'api', http: `http://alice:s3cret@127.0.0.1:${closedPort}/health` })
    expect(refused.status).toBe('fail')
    expect(refused.message).toContain(`http://alice:***@127.0.0.1:${closedPort}/health`)
    expect(refused.message).not.toContain('s3cret')
    const token = await run({ name: 'api', http: `http://tok3n@127.0.0.1:${closedPort}/` })
    expect(token.message).toContain('http://***@127.0.0.1')
    expect(token.message).not.toContain('tok3n')
  })

  it('sends URL credentials as Basic auth', async () => {
    const url = `http://alice:s3cret@${base.slice('http://'.length)}/auth`
    const result = await run({ name: 'api', http: url, body: `auth=Basic ${Buffer.from('alice:s3cret').toString('base64')}` })
    expect(result.status).toBe('pass')
    expect(result.message).not.toContain('s3cret')
  })

  it('fails on a URL it cannot fetch', async () => {
    expect(await run({ name: 'api', http: 'not a url' })).toEqual({ name: 'api', status: 'fail', message: 'not a url is not a valid URL' })
    expect((await run({ name: 'api', http: 'ftp://127.0.0.1/x' })).message).toBe('ftp://127.0.0.1/x is not an http:// or https:// URL')
  })
})

describe('command checks', () => {
  it('passes on exit 0', async () => {
    expect(await run({ name: 'smoke', command: [node, '-e', 'process.exit(0)'] }))
      .toEqual({ name: 'smoke', status: 'pass', message: `\`${node} -e "process.exit(0)"\` exited with code 0` })
  })

  it('fails on another exit code, showing stderr', async () => {
    const result = await run({ name: 'smoke', command: [node, '-e', 'console.log("on stdout"); console.error("smoke test broke"); process.exit(3)'] })
    expect(result.status).toBe('fail')
    expect(result.message.split('exited with code 3; last output:\n')[1]).toBe('smoke test broke')
  })

  it('shows stdout when stderr is empty', async () => {
    const result = await run({ name: 'smoke', command: [node, '-e', 'console.log("only stdout"); process.exit(1)'] })
    expect(result.message).toMatch(/exited with code 1; last output:\nonly stdout$/)
  })

  it('keeps only the last lines of a long output', async () => {
    // exitCode, not exit(): a child that exits at once drops what the pipe had no room for yet.
    const script = 'console.error("FIRST"); for (let i = 0; i < 300; i++) console.error("line " + i); console.error("LAST"); process.exitCode = 2'
    const result = await run({ name: 'smoke', command: [node, '-e', script] })
    const output = result.message.split('last output:\n')[1] ?? ''
    expect(output).toMatch(/^…line \d+\n/)
    expect(output.endsWith('line 299\nLAST')).toBe(true)
    expect(output).not.toContain('FIRST')
    expect(output.length).toBeLessThanOrEqual(501)
  })

  it('waits for output a child of the command still writes after it exited, not for the child to end', async () => {
    // The grandchild keeps stderr open for 8 s; it writes at 300 ms and 700 ms after the command exits.
    const grandchild = 'setTimeout(() => console.error("late 1"), 300); setTimeout(() => console.error("late 2"), 700); setTimeout(() => {}, 8000)'
    const script = `require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: ["ignore", "ignore", "inherit"], detached: true }).unref(); console.error("parent"); process.exit(4)`
    const started = Date.now()
    const result = await run({ name: 'smoke', command: [node, '-e', script] })
    expect(result.status).toBe('fail')
    expect(result.message).toMatch(/exited with code 4; last output:\nparent\nlate 1\nlate 2$/)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('kills a command that runs past its timeout', async () => {
    const started = Date.now()
    const result = await run({ name: 'smoke', command: [node, '-e', 'setInterval(() => {}, 1000)'], timeout_ms: 300 })
    expect(result.status).toBe('fail')
    expect(result.message).toMatch(/timed out after 300 ms and was killed \(no output\)$/)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('kills a command that ignores SIGTERM', async () => {
    const started = Date.now()
    const script = 'process.on("SIGTERM", () => {}); console.log("still here"); setInterval(() => {}, 1000)'
    const result = await run({ name: 'smoke', command: [node, '-e', script], timeout_ms: 300 })
    expect(result.message).toContain('timed out after 300 ms and was killed; last output:\nstill here')
    expect(Date.now() - started).toBeLessThan(6_000)
  })

  it('reports a command killed by a signal', async () => {
    const result = await run({ name: 'smoke', command: [node, '-e', 'process.kill(process.pid, "SIGKILL")'] })
    expect(result.message).toMatch(/was killed by SIGKILL \(no output\)$/)
  })

  it('fails naming a missing program', async () => {
    expect(await run({ name: 'smoke', command: ['strata-no-such-program', '--flag'] })).toEqual({
      name: 'smoke',
      status: 'fail',
      message: 'cannot run `strata-no-such-program --flag`: program `strata-no-such-program` not found (is it installed and on PATH?)',
    })
  })

  it('runs in ctx.cwd', async () => {
    const here = mkdtempSync(join(tmpdir(), 'strata-cwd-'))
    const elsewhere = mkdtempSync(join(tmpdir(), 'strata-cwd-'))
    writeFileSync(join(here, 'marker.txt'), 'x')
    const check: UserCheck = { name: 'cwd', command: [node, '-e', 'require("node:fs").accessSync("marker.txt")'] }
    try {
      expect((await run(check, { cwd: here })).status).toBe('pass')
      expect((await run(check, { cwd: elsewhere })).status).toBe('fail')
      expect((await run(check, { cwd: join(elsewhere, 'gone') })).message).toBe(`cannot run \`${node} -e "require(\\"node:fs\\").accessSync(\\"marker.txt\\")"\`: the working directory ${join(elsewhere, 'gone')} does not exist`)
    } finally {
      rmSync(here, { recursive: true, force: true })
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  it('merges ctx.env over process.env', async () => {
    const script = 'process.exit(process.env.STRATA_CHECK_T === "yes" && process.env.PATH === ' + JSON.stringify(process.env['PATH']) + ' ? 0 : 4)'
    expect((await run({ name: 'env', command: [node, '-e', script] }, { env: { STRATA_CHECK_T: 'yes' } })).status).toBe('pass')
    expect((await run({ name: 'env', command: [node, '-e', script] })).message).toContain('exited with code 4')
  })

  it('masks credentials in the output it shows', async () => {
    const result = await run({ name: 'smoke', command: [node, '-e', 'console.error("cannot reach postgres://app:pw123@db/app"); process.exit(1)'] })
    expect(result.message).toContain('postgres://app:***@db/app')
    expect(result.message).not.toContain('pw123')
  })
})

describe('runUserCheck', () => {
  it('never throws, even for a check of no known kind', async () => {
    const result = await run({ name: 'odd' } as unknown as UserCheck)
    expect(result.name).toBe('odd')
    expect(result.status).toBe('fail')
    expect(result.message).toMatch(/^the check could not run: TypeError: /)
  })

  it('fails an SQL check on a closed connection', async () => {
    const path = join(dir, 'closed.db')
    const closed = await openSqlite({ dialect: 'sqlite', raw: `sqlite:${path}`, redacted: `sqlite:${path}`, path })
    await closed.close()
    const result = await runUserCheck({ name: 'gone', sql: 'SELECT 1', expect: 1 }, { conn: closed, cwd: dir })
    expect(result.status).toBe('fail')
    expect(result.message).toMatch(/^SELECT 1 failed: .*not open/)
  })
})
