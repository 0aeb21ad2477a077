// One process of the monitoring bench (run.mjs section 5). argv[2] is JSON:
// { rounds: [{ watched, config, copy?: [from, to] }], warmup: rounds not counted }. Each round opens
// its config and runs `up`: watched with metrics served on a port, alerts and NDJSON of every
// event (written as the CLI writes it, to /dev/null); unwatched with `monitor: false`. `copy`
// puts a fresh copy of a seeded database in place first (not timed). The heap is collected
// before every round. Prints { bare: { wall, cpu }, watched: { wall, cpu } } of the counted rounds.
import { copyFileSync, openSync, rmSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const { Strata, NdjsonLines } = await import(join(ROOT, 'dist', 'index.js'))
const { rounds, warmup } = JSON.parse(process.argv[2])
v8.setFlagsFromString('--expose-gc')
const collectGarbage = vm.runInNewContext('gc')

const EVENTS = ['run:start', 'migration:start', 'statement', 'migration:done', 'migration:failed', 'backfill:progress', 'check', 'backup:start', 'backup:done',
  'restore:start', 'restore:done', 'rollback:start', 'rollback:done', 'lock:wait', 'metrics:sample', 'alert', 'run:done', 'log']
// NDJSON as src/cli/output.ts writes it (the same NdjsonLines): events gathered, serialized and
// written 256 at a time or when the event loop turns.
const devNull = openSync('/dev/null', 'w')
const pending = new NdjsonLines()
let scheduled = false
const flush = () => { scheduled = false; if (pending.size > 0) writeSync(devNull, pending.drain()) }
const ndjson = (type, payload) => {
  pending.push(type, payload)
  if (pending.size >= 256) flush()
  else if (!scheduled) { scheduled = true; setImmediate(flush) }
}

const counted = { bare: { wall: [], cpu: [] }, watched: { wall: [], cpu: [] } }
for (const [index, { watched, config, copy }] of rounds.entries()) {
  if (copy) {
    const [from, to] = copy
    for (const file of [to, `${to}-wal`, `${to}-shm`]) rmSync(file, { force: true })
    copyFileSync(from, to)
  }
  const strata = await Strata.open(watched ? { config, metricsPort: 0 } : { config, monitor: false })
  if (watched) for (const type of EVENTS) strata.on(type, (payload) => ndjson(type, payload))
  collectGarbage()
  const before = process.cpuUsage()
  const started = performance.now()
  await strata.up()
  flush()
  const ms = performance.now() - started
  const used = process.cpuUsage(before)
  if (index < warmup) continue
  const side = counted[watched ? 'watched' : 'bare']
  side.wall.push(ms)
  side.cpu.push((used.user + used.system) / 1000)
}
console.log(JSON.stringify(counted))
