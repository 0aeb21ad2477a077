import { resolve } from 'node:path'
import { StrataError } from '../errors/index.js'
import type { Plan } from '../plan/plan.js'
import { maintenanceWindowRefusal, parseWindows, type MaintenanceWindow } from '../policy/maintenance-window.js'
import type { MigrationRecord } from '../records/record.js'
import { readRecords, recordsDir } from '../records/store.js'
import { parseDuration } from '../util/duration.js'
import type { Project } from './session.js'

/**
 * The environment policy rules a run must satisfy before anything is touched (SPEC S9):
 * `require_change_request`, `require_rehearsal`, `maintenance_window` and `confirm`
 * (`require_backup`, `lint_fail_on` and `on_failure` act inside the pipeline). Each refusal is
 * E_POLICY (exit 3), names the rule and says what would satisfy it.
 */

export interface PolicyOptions {
  /** `--yes`: the operator confirmed up front. */
  readonly yes?: boolean
  /** Asks the operator; absent when nobody can answer (no terminal). */
  readonly confirm?: (question: string) => Promise<boolean>
  readonly command?: 'complete' | 'abort'
  /** The clock (tests pass their own). */
  readonly now?: () => Date
}

/** The environment's maintenance windows, parsed: a malformed one is E_CONFIG before anything runs. */
export function maintenanceWindows(project: Project): MaintenanceWindow[] {
  const { policy } = project.config
  return policy.maintenanceWindow.length === 0 ? [] : parseWindows(policy.maintenanceWindow)
}

/**
 * The rules checked before anything changes, for commands that change things before their run
 * starts (`deploy` turns maintenance on or copies the database, `rehearse` replaces its target):
 * the plan `up` would run now, and the rule it breaks. A confirmation asked here is not asked again.
 */
export async function precheck(project: Project, state: { appliedSet: ReadonlySet<string>; expanded?: ReadonlySet<string> }, options: PolicyOptions): Promise<{ refusal: StrataError | null; pending: number }> {
  const { buildPlan } = await import('../plan/plan.js')
  const plan = buildPlan(project.graph, project.migrations, state.appliedSet, 'up', 'heads', state.expanded ? { expanded: state.expanded } : {})
  const refusal = await policyRefusal(project, plan, maintenanceWindows(project), options, { changeRequest: null })
  return { refusal, pending: plan.steps.length }
}

/** The first rule the run breaks, as the error to refuse it with; null when it may go ahead. */
export async function policyRefusal(project: Project, plan: Plan, windows: readonly MaintenanceWindow[], options: PolicyOptions, run: { changeRequest: string | null }): Promise<StrataError | null> {
  if (plan.steps.length === 0) return null
  const { policy, environment } = project.config
  const env = `environment \`${environment}\``
  const closed = maintenanceWindowRefusal(windows, (options.now ?? (() => new Date()))(), environment ?? 'default')
  if (closed) return closed
  if (policy.requireChangeRequest) {
    const { approvalFor } = await import('../changes/change-requests.js')
    const revisions = [...new Set(plan.steps.map((s) => s.revision))]
    const checksums = new Map([...project.migrations.values()].map((m) => [m.revision, m.file.checksum]))
    const dir = resolve(project.config.baseDir, project.config.raw.change_requests?.dir ?? 'changes')
    const approval = approvalFor(dir, revisions, checksums, project.config.raw.change_requests?.allow_same_approver ?? false)
    if (!approval.approved) {
      return new StrataError('E_POLICY', `${env} requires an approved change request (require_change_request): ${approval.reason}`, {
        rule: 'require_change_request',
        hint: `create one with \`strata cr new TITLE --revisions ${revisions.join(',')}\`, then have it approved with \`strata cr approve ID --role technical|business|security\``,
      })
    }
    run.changeRequest = approval.id
  }
  // Only what would be applied needs rehearsing: a rollback (down) is what a rehearsal tested.
  if (policy.requireRehearsal && plan.direction === 'up') {
    const missing = rehearsalMissing(project, plan, (options.now ?? (() => new Date()))())
    if (missing) {
      return new StrataError('E_POLICY', `${env} requires a passing rehearsal of these migrations (require_rehearsal): ${missing}`, {
        rule: 'require_rehearsal',
        hint: `run \`strata rehearse --from ${environment ?? 'production'} --to staging\` with the migrations as they are now, then run again`,
      })
    }
  }
  return confirmation(project, plan, options)
}

/** `policy.confirm` (SPEC S9): ask on a terminal; without one and without --yes, refuse. */
async function confirmation(project: Project, plan: Plan, options: PolicyOptions): Promise<StrataError | null> {
  if (!project.config.policy.confirm || options.yes) return null
  const environment = project.config.environment
  const what = options.command ? `${options.command === 'complete' ? 'Complete (contract)' : 'Abort (undo the expand of)'} ${plan.target}` : `${plan.direction === 'up' ? 'Apply' : 'Revert'} ${plan.steps.length} migration(s)`
  const question = `${what} on environment ${environment} (${project.config.url.redacted})?`
  if (options.confirm && (await options.confirm(question))) return null
  return new StrataError('E_POLICY', `environment \`${environment}\` requires confirmation and ${options.confirm ? 'it was declined' : 'there is no terminal to ask on'}`, {
    rule: 'confirm',
    hint: 'answer yes on a terminal, or pass --yes',
  })
}

/**
 * `require_rehearsal` (SPEC S10): a passing rehearsal record, younger than
 * `policy.rehearsal_max_age`, that ran every step of the plan with the same checksums. Returns
 * what is missing, or null when one is found.
 */
function rehearsalMissing(project: Project, plan: Plan, now: Date): string | null {
  const dir = recordsDir(project.config)
  const maxAgeMs = parseDuration(project.config.policy.rehearsalMaxAge) ?? 7 * 86_400_000
  const wanted = plan.steps.map((s) => ({ revision: s.revision, checksum: s.migration.file.checksum }))
  const covers = (r: MigrationRecord): boolean => wanted.every((w) => r.steps.some((s) => s.revision === w.revision && s.checksum === w.checksum && s.status === 'applied'))
  const isFresh = (r: MigrationRecord): boolean => now.getTime() - Date.parse(r.executionTime) <= maxAgeMs
  // The records young enough to count first; the whole history only to say why none does.
  const recent = dir ? readRecords(dir, { since: now.getTime() - maxAgeMs }).records : []
  if (recent.some((r) => r.rehearsal === true && r.success && isFresh(r) && covers(r))) return null
  const rehearsals = dir ? readRecords(dir).records.filter((r) => r.rehearsal === true) : []
  const passing = rehearsals.filter((r) => r.success)
  const age = project.config.policy.rehearsalMaxAge
  if (passing.some(covers)) return `the last passing rehearsal of them is older than ${age} (policy rehearsal_max_age)`
  if (rehearsals.some(covers)) return 'the last rehearsal of them failed'
  const changed = wanted.filter((w) => passing.some((r) => r.steps.some((s) => s.revision === w.revision && s.checksum !== w.checksum)))
  if (changed.length > 0) return `${changed.map((w) => w.revision).join(', ')} changed since rehearsed`
  return `no passing rehearsal covers ${wanted.map((w) => w.revision).join(', ')}${dir ? '' : ' (without a config file there are no rehearsal records)'}`
}
