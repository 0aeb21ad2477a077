#!/usr/bin/env node
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
  process.stderr.write('\ninterrupted: the migration in progress is rolled back by the database; run `strata status` to see where it stands\n')
  process.exit(130)
})

const code = await main(process.argv.slice(2))
process.exitCode = code
