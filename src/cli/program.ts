import { Command, CommanderError, Option } from 'commander'
import { registerInit } from './commands/init.js'
import { registerNew } from './commands/new.js'
import { registerStatus } from './commands/status.js'
import { registerHistory } from './commands/history.js'
import { registerPlan } from './commands/plan.js'
import { registerMigrate } from './commands/migrate.js'
import { registerAdmin } from './commands/admin.js'
import { registerBackup } from './commands/backup.js'
import { registerChecks } from './commands/checks.js'
import { registerTest } from './commands/test.js'
import { registerLint } from './commands/lint.js'
import { registerRecord } from './commands/record.js'
import { registerCr } from './commands/cr.js'
import { registerRehearse } from './commands/rehearse.js'
import { registerMaintenance } from './commands/maintenance.js'
import { RELATIVE_MARK } from './context.js'
import { reportError, useNdjsonStderr, type GlobalOptions } from './output.js'
import { StrataError } from '../errors/index.js'

import { VERSION } from '../version.js'

export function buildProgram(ndjson = false): Command {
  const program = new Command('strata')
    .description('Database migrations that follow the migration SOP: plan, check, back up, migrate, validate, roll back, record.')
    .version(VERSION, '-V, --version')
    .option('--config <path>', 'config file (default ./strata.yaml)')
    .option('--env <name>', 'environment from the config (default: config or STRATA_ENV)')
    .option('--url <url>', 'database URL, overriding the environment\'s (also STRATA_DATABASE_URL)')
    .option('--migrations <dir>', 'migrations directory (default from config, else ./migrations)')
    .option('--json', 'print one JSON document on stdout')
    .option('--yes', 'answer yes to confirmations')
    .option('--debug', 'show stack traces')
    .addOption(new Option('--progress <mode>', 'progress output on stderr').choices(['bar', 'plain', 'json']))
    .option('--lock-timeout <seconds>', 'wait this long for another runner (default 60)')
    .option('--metrics-port <port>', 'serve the run\'s metrics at http://127.0.0.1:PORT/metrics (Prometheus)')
    // With --progress json, stderr carries NDJSON only: the usage hint goes with the error event.
    .showHelpAfterError(ndjson ? false : '(run `strata --help` for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: () => {} })
  for (const register of [registerInit, registerNew, registerStatus, registerHistory, registerPlan, registerMigrate, registerAdmin, registerChecks, registerBackup, registerTest, registerLint, registerRecord, registerCr, registerRehearse, registerMaintenance]) {
    register(program)
  }
  return program
}

/** Runs the CLI and resolves to the exit code (SPEC S12). */
export async function main(argv: readonly string[]): Promise<number> {
  const args = argv.map((arg, i) => (i > 0 && /^[+-]\d+$/.test(arg) ? `${RELATIVE_MARK}${arg}` : arg))
  // Flags are read before parsing too, so a usage error is reported in the requested format.
  const early: GlobalOptions = { json: args.includes('--json'), debug: args.includes('--debug') }
  const ndjson = args.includes('--progress=json') || args.some((a, i) => a === '--progress' && args[i + 1] === 'json')
  useNdjsonStderr(ndjson)
  const program = buildProgram(ndjson)
  try {
    await program.parseAsync(['node', 'strata', ...args])
    return Number(process.exitCode ?? 0)
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0
      const message = error.message.replace(/^error: /, '')
      return reportError(new StrataError('E_USAGE', message, { hint: 'run `strata --help` (or `strata COMMAND --help`) for usage' }), early)
    }
    return reportError(error, { ...early, ...(program.opts() as GlobalOptions) })
  }
}
