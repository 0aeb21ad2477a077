/**
 * Change requests (SPEC S9): `changes/CR-YYYY-NNN.yaml` files with the SOP's "Change Request
 * Process" fields and three approvals (technical, business, security), each tied to the
 * checksums of the covered migrations. This module is the entry point: the CLI's `strata cr`
 * and the pipeline's `require_change_request` rule use it.
 */
import { resolve } from 'node:path'
import type { ResolvedConfig } from '../config/load-config.js'
import { StrataError } from '../errors/index.js'
import type { MigrationDef } from '../loader/migration.js'
import { describeMissing, evaluateApprovals, type ApprovalState, type ApprovalView } from './approval-state.js'
import type { ChangeRequest } from './change-request.js'
import { listChangeRequests, type ChangeRequestEntry } from './change-request-store.js'

export {
  APPROVAL_ROLES,
  PROSE_FIELDS,
  changeRequestId,
  compareChangeRequestIds,
  isApprovalRole,
  parseChangeRequest,
  parseChangeRequestId,
  renderNewChangeRequest,
  type Approval,
  type ApprovalRole,
  type ChangeRequest,
  type NewChangeRequest,
  type ParsedChangeRequest,
  type ProseField,
} from './change-request.js'
export { describeMissing, evaluateApprovals, person, type ApprovalState, type ApprovalView } from './approval-state.js'
export {
  approveChangeRequest,
  changeRequestIds,
  createChangeRequest,
  listChangeRequests,
  nextChangeRequestId,
  readChangeRequest,
  type ApprovalInput,
  type ApprovalResult,
  type ChangeRequestDraft,
  type ChangeRequestEntry,
  type ClockOptions,
} from './change-request-store.js'
export { defaultIdentity, gitUserEmail } from './identity.js'

/** The config's `change_requests` section, resolved. */
export interface ChangeRequestSettings {
  /** Absolute folder of the files: `change_requests.dir` from the config's folder, default `changes`. */
  readonly dir: string
  /** `change_requests.allow_same_approver` (default false). */
  readonly allowSameApprover: boolean
}

/**
 * Where change requests live and who may approve them. Change requests belong to a project's
 * config (SPEC S12): without a config file this is E_CONFIG.
 */
export function changeRequestSettings(config: ResolvedConfig): ChangeRequestSettings {
  if (config.file === null) {
    throw new StrataError('E_CONFIG', '`strata cr` needs a config file (strata.yaml): change requests live in a folder beside it', {
      hint: 'run `strata init` to write strata.yaml, or pass --config PATH',
    })
  }
  const section = config.raw.change_requests
  return { dir: resolve(config.baseDir, section?.dir ?? 'changes'), allowSameApprover: section?.allow_same_approver ?? false }
}

/** Revision → checksum of its file, for every loaded migration (what approvals are judged against). */
export function checksumsOf(migrations: ReadonlyMap<string, MigrationDef>): Map<string, string> {
  return new Map([...migrations].map(([revision, def]) => [revision, def.file.checksum]))
}

/** `cr show --json` (SPEC S9): the fields as camelCase, approvals judged now. */
export interface ChangeRequestView {
  readonly id: string
  readonly title: string
  readonly summary: string
  readonly businessJustification: string
  readonly technicalDetails: string
  readonly riskAssessment: string
  readonly testingPlan: string
  readonly rollbackPlan: string
  readonly schedule: string
  readonly priority: string
  readonly requester: string
  readonly createdAt: string
  readonly path: string
  readonly migrations: readonly string[]
  /** `{role, by, at, valid}` plus `reason` when void, in role order. */
  readonly approvals: readonly ApprovalView[]
  readonly approved: boolean
  /** Roles without a valid approval. */
  readonly missing: ApprovalState['missing']
}

/** A change request with its approvals judged against `checksums` (revision → checksum now). */
export function viewChangeRequest(entry: ChangeRequestEntry, checksums: ReadonlyMap<string, string>, allowSameApprover: boolean): ChangeRequestView {
  const { request } = entry
  const state = evaluateApprovals(request, checksums, allowSameApprover)
  return {
    id: request.id,
    title: request.title,
    summary: request.prose.summary,
    businessJustification: request.prose.business_justification,
    technicalDetails: request.prose.technical_details,
    riskAssessment: request.prose.risk_assessment,
    testingPlan: request.prose.testing_plan,
    rollbackPlan: request.prose.rollback_plan,
    schedule: request.prose.schedule,
    priority: request.prose.priority,
    requester: request.requester,
    createdAt: request.createdAt,
    path: entry.path,
    migrations: request.migrations,
    approvals: state.approvals,
    approved: state.approved,
    missing: state.missing,
  }
}

/** The verdict of the `require_change_request` rule. */
export type ChangeRequestVerdict = { readonly approved: true; readonly id: string } | { readonly approved: false; readonly reason: string }

/**
 * The `require_change_request` rule (SPEC S9): finds an approved change request in `dir` whose
 * `migrations` cover every one of `revisions`, judging approvals against `checksums` (revision →
 * checksum of its file now; a revision missing from it has no file). When several qualify the
 * newest wins. Otherwise `reason` says what would satisfy the rule. Pure but for reading `dir`;
 * a malformed file there is E_CONFIG naming it, never skipped. With no revisions there is nothing
 * to cover and the verdict is a refusal: callers skip the rule when nothing runs.
 */
export function approvalFor(dir: string, revisions: readonly string[], checksums: ReadonlyMap<string, string>, allowSameApprover: boolean): ChangeRequestVerdict {
  if (revisions.length === 0) return { approved: false, reason: 'no revisions were given to look up in the change requests' }
  const entries = listChangeRequests(dir)
  const covering = entries
    .filter((e) => revisions.every((r) => e.request.migrations.includes(r)))
    .map((e) => ({ request: e.request, state: evaluateApprovals(e.request, checksums, allowSameApprover) }))
  const approved = covering.filter((c) => c.state.approved).at(-1)
  if (approved) return { approved: true, id: approved.request.id }
  if (covering.length > 0) return { approved: false, reason: lacking(covering, revisions) }
  return { approved: false, reason: uncovered(entries.map((e) => e.request), revisions) }
}

/** The covering request closest to approval (fewest roles missing, then newest), and what it lacks. */
function lacking(covering: ReadonlyArray<{ request: ChangeRequest; state: ApprovalState }>, revisions: readonly string[]): string {
  const best = [...covering].sort((a, b) => b.state.missing.length - a.state.missing.length).at(-1)!
  const { id } = best.request
  const roles = describeMissing(best.state)
  const others = covering.filter((c) => c !== best).map((c) => c.request.id)
  const also = others.length > 0 ? ` (${others.join(', ')} cover${others.length === 1 ? 's' : ''} them too, also unapproved)` : ''
  const what = best.state.missing.length === 1 ? `a valid ${roles} approval` : `valid ${roles} approvals`
  return `${id} covers ${list(revisions)} but lacks ${what}${also}; `
    + `run \`strata cr approve ${id} --role ${best.state.missing[0] ?? 'technical'}\` (\`strata cr show ${id}\` shows the approvals)`
}

/** Which revisions no change request covers, or which requests cover which part. */
function uncovered(requests: readonly ChangeRequest[], revisions: readonly string[]): string {
  const create = `\`strata cr new TITLE --revisions ${revisions.join(',')}\``
  const bare = revisions.filter((r) => !requests.some((q) => q.migrations.includes(r)))
  if (bare.length > 0) {
    return `no change request covers ${list(bare)}; run ${create} and have it approved (technical, business and security)`
  }
  const parts = revisions.map((r) => `${r} in ${requests.filter((q) => q.migrations.includes(r)).map((q) => q.id).join('/')}`)
  return `no single change request covers all of ${list(revisions)} (${parts.join(', ')}); write one that does with ${create}, or migrate one change request's revisions at a time`
}

function list(revisions: readonly string[]): string {
  return revisions.join(', ')
}
