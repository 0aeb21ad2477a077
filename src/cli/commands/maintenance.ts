import type { Command } from 'commander'
import type { MaintenanceState } from '../../maintenance/maintenance-store.js'
import type { MaintenanceRequest } from '../../pipeline/maintenance.js'
import { globals, openStrata } from '../context.js'
import { out, type GlobalOptions } from '../output.js'

/** `strata maintenance on|off|status` (SPEC S10): the flag applications read with `maintenanceStatus()`. */
export function registerMaintenance(program: Command): void {
  const maintenance = program.command('maintenance').description('turn maintenance mode on or off, or show it (applications read it with maintenanceStatus())')
  maintenance
    .command('on')
    .description('turn maintenance mode on')
    .option('--message <text>', 'what the application shows (default "Down for maintenance")')
    .option('--until <iso-time>', 'when maintenance is expected to end, ISO-8601 (e.g. 2026-03-01T14:00:00Z)')
    .action(async (local: { message?: string; until?: string }, command: Command) => {
      const request: MaintenanceRequest = { enabled: true, ...(local.message !== undefined ? { message: local.message } : {}), ...(local.until !== undefined ? { until: local.until } : {}) }
      await change(request, globals(command))
    })
  maintenance
    .command('off')
    .description('turn maintenance mode off')
    .action(async (_local, command: Command) => change({ enabled: false }, globals(command)))
  maintenance
    .command('status')
    .description('show whether maintenance mode is on, its message, until when, and who set it')
    .action(async (_local, command: Command) => {
      const options = globals(command)
      const state = await (await openStrata(options)).maintenance.status()
      if (options.json) return out.json(jsonOf(state))
      out.text(state.enabled ? 'on' : 'off')
      out.info(describe(state))
    })
}

async function change(request: MaintenanceRequest, options: GlobalOptions): Promise<void> {
  const strata = await openStrata(options)
  const state = request.enabled ? await strata.maintenance.on(request) : await strata.maintenance.off()
  if (options.json) return out.json(jsonOf(state))
  out.info(`${describe(state)} (${strata.config.url.redacted})`)
}

/** `status --json` (SPEC S10): exactly these keys. */
function jsonOf(state: MaintenanceState): Record<string, unknown> {
  return { enabled: state.enabled, message: state.message, until: state.until, setBy: state.setBy, setAt: state.setAt }
}

function describe(state: MaintenanceState): string {
  if (state.setAt === null) return 'maintenance mode is off (never turned on)'
  if (!state.enabled) return `maintenance mode is off (turned off by ${state.setBy ?? 'unknown'} at ${state.setAt})`
  const until = state.until ? ` until ${state.until}` : ''
  return `maintenance mode is on${until}: "${state.message ?? ''}" (set by ${state.setBy ?? 'unknown'} at ${state.setAt})`
}
