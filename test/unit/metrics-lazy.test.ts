import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, useProject } from '../support/cli.js'
import { StrataEmitter } from '../../src/events/events.js'
import { startMetrics } from '../../src/monitor/metrics.js'

// prom-client (and the https, zlib and cluster modules it pulls in) costs some 50 ms to load: a
// CLI run with --metrics-port that nobody scrapes must not pay for it. In a file of its own, so
// that no other test has loaded prom-client in this process.

const require = createRequire(import.meta.url)
const PROM_CLIENT = require.resolve('prom-client')

describe('the metrics endpoint', () => {
  it('loads prom-client at the first scrape, not when it starts serving', async () => {
    const events = new StrataEmitter()
    const unscraped = await startMetrics(events, { runId: 'run-unscraped', intervalMs: 60_000, port: 0 })
    expect(unscraped.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    events.emit('run:start', { runId: 'run-unscraped', command: 'up', environment: null, steps: [{ revision: 'a1', direction: 'up' }], estimatedMs: null })
    await unscraped.stop()
    expect(require.cache[PROM_CLIENT]).toBeUndefined()

    const scraped = await startMetrics(events, { runId: 'run-scraped', intervalMs: 60_000, port: 0 })
    const [first, second] = await Promise.all([fetch(scraped.url!), fetch(scraped.url!)])
    expect(first.status).toBe(200)
    expect(second.status).toBe(200)
    expect(await first.text()).toContain('strata_run_elapsed_seconds{run_id="run-scraped"}')
    expect(await second.text()).toContain('strata_run_elapsed_seconds{run_id="run-scraped"}')
    expect(require.cache[PROM_CLIENT]).toBeDefined()
    await scraped.stop()
  })

  const project = useProject()

  it('a run served on a port that nobody scrapes loads neither node:http nor prom-client (in a process of its own)', () => {
    project.write('001_graphics.sql', '-- strata:up\nCREATE TABLE graphics (id integer PRIMARY KEY);\n-- strata:down\nDROP TABLE graphics;\n')
    const script = `
      const { Strata } = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))})
      const strata = await Strata.open({ url: 'sqlite:app.db', migrations: 'migrations', metricsPort: 0 })
      const urls = []
      strata.on('log', (e) => urls.push(e.message))
      await strata.up()
      console.log(JSON.stringify({ urls, modules: process.moduleLoadList.filter((m) => /^NativeModule (http|https|zlib)$/.test(m)) }))`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project.dir, encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    const { urls, modules } = JSON.parse(run.stdout) as { urls: string[]; modules: string[] }
    expect(urls.some((u) => /^metrics: http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(u))).toBe(true)
    expect(modules).toEqual([])
  })
})
