import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
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
})
