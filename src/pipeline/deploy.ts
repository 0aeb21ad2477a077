import type { ResolvedConfig } from '../config/load-config.js'
import type { Pointer } from '../deploy/pointer.js'
import { StrataError } from '../errors/index.js'
import type { MaintenanceState } from '../maintenance/maintenance-store.js'
import { MAINTENANCE_CACHE_MS } from '../maintenance/status.js'
import { readMaintenance, setMaintenance } from './maintenance.js'
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js'
import { precheck } from './policy.js'
import { readOnly, type Project } from './session.js'
import { compare } from './status.js'

/** `direct`: backup, migrate, validate. `rolling`: the same inside maintenance mode. */
export type DeployStrategy = 'direct' | 'rolling' | 'blue-green'

export interface DeployOptions extends Omit<MigrateOptions, 'direction' | 'target' | 'backup' | 'refusal'> {
  /** Default: the environment's `policy.strategy`. */
  readonly strategy?: DeployStrategy
  /** What the application shows while maintenance is on. */
  readonly message?: string
  /** The configured database: where the maintenance flag and the blue-green pointer live (default: the project's). */
  readonly home?: ResolvedConfig
}

export interface DeployResult extends MigrateResult {
  readonly strategy: DeployStrategy
  /** The maintenance flag as the deploy left it (null when it did not touch it). */
  readonly maintenance: MaintenanceState | null
  /** Blue-green: the pointer after the switch. */
  readonly pointer?: Pointer
}

/**
 * `strata deploy` (SPEC S10). The environment's rules are checked first, before the application
 * is disturbed: a refused deploy turns nothing on and copies nothing (the refusal is recorded as
 * any run's). `rolling`: maintenance on → a wait for applications' cached flag to expire →
 * verified backup → migrate → validate (the postflight) → maintenance off; when the run fails,
 * maintenance goes off after the pipeline has rolled back (or restored). Maintenance that an
 * operator had turned on already is left as it was. `direct`: the same without maintenance.
 * `blue-green`: see blue-green.ts.
 */
export async function deploy(project: Project, options: DeployOptions): Promise<DeployResult> {
  const home = options.home ?? project.config
  if (home.environment === null) {
    throw new StrataError('E_CONFIG', '`strata deploy` needs a config file with environments (SPEC S12)', {
      hint: 'run `strata init`, or pass --config PATH; `strata up` runs with --url alone',
    })
  }
  const strategy = options.strategy ?? (project.config.policy.strategy as DeployStrategy)
  const { strategy: _strategy, message: _message, home: _home, ...runOptions } = options
  const comparison = await readOnly(project, (conn) => compare(project, conn))
  const { refusal, pending } = await precheck(project, comparison, runOptions)
  const run = (confirmed: boolean): Promise<MigrateResult> => migrate(project, {
    ...runOptions, ...(confirmed ? { yes: true } : {}), ...(refusal ? { refusal } : {}), direction: 'up', target: 'heads', backup: true, label: `deploy (${strategy})`,
  })
  // Refused, or nothing to apply: the run records it; the application is left alone.
  if (refusal || pending === 0 || strategy === 'direct') return { ...(await run(true)), strategy, maintenance: null }
  if (strategy === 'blue-green') {
    const { blueGreenDeploy } = await import('./blue-green.js')
    return { ...(await blueGreenDeploy(home, project, { ...runOptions, yes: true, label: 'deploy (blue-green)' })), strategy, maintenance: null }
  }
  return rolling(project, home, options.message, () => run(true))
}

async function rolling(project: Project, home: ResolvedConfig, message: string | undefined, run: () => Promise<MigrateResult>): Promise<DeployResult> {
  const say = (text: string): void => project.events.emit('log', { level: 'info', message: text })
  // The flag lives where applications read it: the configured database, whatever the pointer says.
  const flag = { config: home, dialect: project.dialect }
  const environment = home.environment ?? home.url.redacted
  const already = (await readMaintenance(flag)).enabled
  if (already) {
    say(`maintenance mode is already on for ${environment}; the deploy leaves it as it is`)
  } else {
    await setMaintenance(flag, { enabled: true, message: message ?? `Down for maintenance: deploying to ${environment}` })
    say(`maintenance mode on for ${environment}; waiting ${MAINTENANCE_CACHE_MS} ms for applications to see it`)
    await new Promise((resolve) => setTimeout(resolve, MAINTENANCE_CACHE_MS + 100))
  }
  let result: MigrateResult
  try {
    result = await run()
  } catch (error) {
    // The pipeline has already rolled back or restored (policy on_failure): reopen the application.
    if (!already) {
      await setMaintenance(flag, { enabled: false }).then(
        () => say('maintenance mode off after the failed deploy'),
        (offError: unknown) => say(`maintenance mode could NOT be turned off after the failed deploy: ${offError instanceof Error ? offError.message : String(offError)}; run \`strata maintenance off\``),
      )
    }
    throw error
  }
  if (already) return { ...result, strategy: 'rolling', maintenance: await readMaintenance(flag) }
  const maintenance = await setMaintenance(flag, { enabled: false })
  say('maintenance mode off')
  return { ...result, strategy: 'rolling', maintenance }
}
