#!/usr/bin/env node
import { flushEvents } from './cli/output.js'
import { main } from './cli/program.js'

// A reader that stops early (`strata status | head -1`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}
// Ctrl-C: the database rolls back the transaction in progress; say so instead of dying silently.
process.once('SIGINT', () => {
  flushEvents()
  process.stderr.write('\ninterrupted: the migration in progress is rolled back by the database; run `strata status` to see where it stands\n')
  process.exit(130)
})

const code = await main(process.argv.slice(2))
process.exitCode = code
flushEvents()
// The work is done: a timer a migration module left behind (lint records a body that waits on
// something) must not hold the command open. Output is flushed first.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))))
process.exit(code)
