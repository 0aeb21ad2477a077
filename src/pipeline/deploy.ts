import type { ResolvedConfig } from '../config/load-config.js'
import type { Pointer } from '../deploy/pointer.js'
import type { MaintenanceState } from '../maintenance/maintenance-store.js'
import { MAINTENANCE_CACHE_MS } from '../maintenance/status.js'
import { setMaintenance } from './maintenance.js'
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js'
import { readOnly, type Project } from './session.js'
import { compare } from './status.js'

/** `direct`: backup, migrate, validate. `rolling`: the same inside maintenance mode. */
export type DeployStrategy = 'direct' | 'rolling' | 'blue-green'

export interface DeployOptions extends Omit<MigrateOptions, 'direction' | 'target' | 'backup'> {
  /** Default: the environment's `policy.strategy`. */
  readonly strategy?: DeployStrategy
  /** What the application shows while maintenance is on. */
  readonly message?: string
  /** The configured database, where the blue-green pointer lives (default: the project's). */
  readonly home?: ResolvedConfig
}

export interface DeployResult extends MigrateResult {
  readonly strategy: DeployStrategy
  /** The maintenance flag as the deploy left it (null for `direct` and `blue-green`). */
  readonly maintenance: MaintenanceState | null
  /** Blue-green: the pointer after the switch. */
  readonly pointer?: Pointer
}

/**
 * `strata deploy` (SPEC S10). `rolling`: maintenance on → wait for applications' cached flag to
 * expire → verified backup → migrate → validate (the postflight) → maintenance off; when the run
 * fails, maintenance goes off after the pipeline has rolled back (or restored). `direct`: the
 * same without maintenance mode. `blue-green`: see blue-green.ts.
 */
export async function deploy(project: Project, options: DeployOptions): Promise<DeployResult> {
  const strategy = options.strategy ?? (project.config.policy.strategy as DeployStrategy)
  if (strategy === 'blue-green') {
    const { blueGreenDeploy } = await import('./blue-green.js')
    const { strategy: _strategy, message: _message, home, ...rest } = options
    const result = await blueGreenDeploy(home ?? project.config, project, rest)
    return { ...result, strategy, maintenance: null }
  }
  const say = (message: string): void => project.events.emit('log', { level: 'info', message })
  const run = (): Promise<MigrateResult> => migrate(project, { ...options, direction: 'up', target: 'heads', backup: true })
  if (strategy === 'direct') return { ...(await run()), strategy, maintenance: null }
  // Nothing to apply: no reason to take the application down.
  const comparison = await readOnly(project, (conn) => compare(project, conn))
  const pending = project.graph.ordered.filter((r) => !comparison.appliedSet.has(r))
  if (pending.length === 0) return { ...(await run()), strategy, maintenance: null }

  const environment = project.config.environment ?? project.config.url.redacted
  await setMaintenance(project, { enabled: true, message: options.message ?? `Down for maintenance: deploying to ${environment}` })
  say(`maintenance mode on for ${environment}; waiting ${MAINTENANCE_CACHE_MS} ms for applications to see it`)
  await new Promise((resolve) => setTimeout(resolve, MAINTENANCE_CACHE_MS + 100))
  let result: MigrateResult
  try {
    result = await run()
  } catch (error) {
    // The pipeline has already rolled back or restored (policy on_failure): reopen the application.
    await setMaintenance(project, { enabled: false }).then(
      () => say('maintenance mode off after the failed deploy'),
      (offError: unknown) => say(`maintenance mode could NOT be turned off after the failed deploy: ${offError instanceof Error ? offError.message : String(offError)}; run \`strata maintenance off\``),
    )
    throw error
  }
  const maintenance = await setMaintenance(project, { enabled: false })
  say('maintenance mode off')
  return { ...result, strategy, maintenance }
}
