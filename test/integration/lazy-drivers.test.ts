import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, useProject } from '../support/cli.js'

describe('drivers load lazily', () => {
  const project = useProject()

  it('a SQLite run never loads pg or mysql2', () => {
    project.write('001_a.sql', '-- strata:up\nCREATE TABLE a (id INTEGER);\n')
    const script = `
      import { createRequire } from 'node:module'
      const { Strata } = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))})
      const strata = await Strata.open({ url: 'sqlite:app.db', migrations: 'migrations' })
      await strata.up()
      await strata.status()
      const loaded = Object.keys(createRequire(import.meta.url).cache)
      console.log(JSON.stringify({
        sqlite: loaded.some((f) => f.includes('/node_modules/better-sqlite3/')),
        pg: loaded.some((f) => /\\/node_modules\\/pg(-[a-z]+)?\\//.test(f)),
        mysql2: loaded.some((f) => f.includes('/node_modules/mysql2/')),
      }))`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project.dir, encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ sqlite: true, pg: false, mysql2: false })
  })
})
