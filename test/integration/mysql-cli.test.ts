import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { strata, useProject } from '../support/cli.js'

// The real server of this machine; unreachable means these tests fail (never a silent skip).
const SERVER = process.env['STRATA_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'
const SECRET = 'pw-m4ria-7720'

async function admin(sql: string): Promise<unknown[]> {
  const { default: mysql } = await import('mysql2/promise')
  const conn = await mysql.createConnection({ uri: SERVER })
  try {
    const [rows] = await conn.query(sql)
    return Array.isArray(rows) ? rows : []
  } finally {
    await conn.end()
  }
}

describe('strata on MariaDB (CLI end to end)', () => {
  const project = useProject()
  const database = `strata_cli_${process.pid}`
  const user = `strata_u_${process.pid}`
  beforeEach(async () => {
    await admin(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
    await admin(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${SECRET}'`)
    await admin(`CREATE USER IF NOT EXISTS '${user}'@'localhost' IDENTIFIED BY '${SECRET}'`)
    await admin(`GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`)
    await admin(`GRANT ALL ON \`${database}\`.* TO '${user}'@'localhost'`)
  })
  afterEach(async () => {
    await admin(`DROP DATABASE IF EXISTS \`${database}\``)
    await admin(`DROP USER IF EXISTS '${user}'@'%'`)
    await admin(`DROP USER IF EXISTS '${user}'@'localhost'`)
  })

  it('works with a mariadb:// URL and a password that never shows in output or strata tables', async () => {
    project.write('001_graphics.sql', "-- strata:up\nCREATE TABLE graphics (id int PRIMARY KEY, title varchar(80) NOT NULL);\nINSERT INTO graphics VALUES (1, 'a');\n-- strata:down\nDROP TABLE graphics;\n")
    const args = ['--url', `mariadb://${user}:${SECRET}@127.0.0.1:3306/${database}`, '--migrations', 'migrations']
    const up = strata(['up', ...args], project.dir)
    expect(up.stderr).not.toContain('error[')
    expect(up.code).toBe(0)
    const status = strata(['status', '--json', ...args], project.dir)
    expect(JSON.parse(status.stdout)).toMatchObject({ database: { dialect: 'mysql' }, current: ['001_graphics'] })
    const wrong = strata(['status', '--url', `mysql://${user}:${SECRET}x@127.0.0.1:3306/${database}`, '--migrations', 'migrations'], project.dir)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('E_CONNECT')
    const stored = JSON.stringify(await admin(`SELECT * FROM \`${database}\`.strata_runs`)) + JSON.stringify(await admin(`SELECT * FROM \`${database}\`.strata_history`))
    for (const text of [up.stdout, up.stderr, status.stdout, status.stderr, wrong.stdout, wrong.stderr, stored]) expect(text).not.toContain(SECRET)
  })

  it('TLS parameters reach the client (this server has no TLS: ssl is refused clearly)', () => {
    project.write('001_a.sql', '-- strata:up\nCREATE TABLE a (id int);\n')
    const ssl = encodeURIComponent(JSON.stringify({ rejectUnauthorized: true }))
    const run = strata(['status', '--url', `mysql://${user}:${SECRET}@127.0.0.1:3306/${database}?ssl=${ssl}`, '--migrations', 'migrations'], project.dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('E_CONNECT')
    expect(run.stderr).toContain('secure connection')
    expect(run.stderr).not.toContain(SECRET)
  })
})
