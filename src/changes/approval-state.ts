import { APPROVAL_ROLES, type Approval, type ApprovalRole, type ChangeRequest } from './change-request.js'

/** One approval as judged now (`cr show --json` lists these, SPEC S9). */
export interface ApprovalView {
  readonly role: ApprovalRole
  readonly by: string
  readonly at: string
  /** False when a covered migration changed or vanished since, or its approver holds another role. */
  readonly valid: boolean
  /** Why it is void, e.g. `002_event changed since it was approved`; absent when valid. */
  readonly reason?: string
}

/** The approvals of a change request judged against the migration files as they are now. */
export interface ApprovalState {
  /** The approvals the file holds, in role order. */
  readonly approvals: readonly ApprovalView[]
  /** Roles without a valid approval, in role order. */
  readonly missing: readonly ApprovalRole[]
  /** All three roles hold valid approvals (by three different people unless allowed otherwise). */
  readonly approved: boolean
}

/**
 * Judges every approval of `request` against `checksums` (revision → checksum of its file now;
 * a revision absent from it has no file any more). An approval is void when a covered migration
 * changed, vanished or was added to the request since it was given. Unless `allowSameApprover`,
 * an approver who already holds an earlier valid approval of another role gets no second one:
 * the later approval is void.
 */
export function evaluateApprovals(request: ChangeRequest, checksums: ReadonlyMap<string, string>, allowSameApprover: boolean): ApprovalState {
  const approvals: ApprovalView[] = []
  const holders = new Map<string, ApprovalRole>()
  for (const [role, approval] of byTime(request)) {
    const voidReason = staleness(request.migrations, approval, checksums) ?? (allowSameApprover ? null : duplicate(holders, approval))
    if (voidReason === null) holders.set(person(approval.by), role)
    approvals.push({ role, by: approval.by, at: approval.at, valid: voidReason === null, ...(voidReason === null ? {} : { reason: voidReason }) })
  }
  approvals.sort((a, b) => APPROVAL_ROLES.indexOf(a.role) - APPROVAL_ROLES.indexOf(b.role))
  const missing = APPROVAL_ROLES.filter((role) => !approvals.some((a) => a.role === role && a.valid))
  return { approvals, missing, approved: missing.length === 0 }
}

/** Why an approval no longer covers the migrations as they are, or null when it still does. */
function staleness(migrations: readonly string[], approval: Approval, checksums: ReadonlyMap<string, string>): string | null {
  const reasons: string[] = []
  for (const revision of migrations) {
    const now = checksums.get(revision)
    const then = approval.checksums[revision]
    if (now === undefined) reasons.push(`${revision} no longer exists`)
    else if (then === undefined) reasons.push(`${revision} was added to the change request after it was approved`)
    else if (then !== now) reasons.push(`${revision} changed since it was approved`)
  }
  return reasons.length === 0 ? null : reasons.join('; ')
}

function duplicate(holders: ReadonlyMap<string, ApprovalRole>, approval: Approval): string | null {
  const role = holders.get(person(approval.by))
  return role === undefined ? null : `${approval.by} already approved the ${role} role; each role needs a different person`
}

/** Approvals oldest first (ties in role order), so the earlier of two by one person is the one that counts. */
function byTime(request: ChangeRequest): Array<[ApprovalRole, Approval]> {
  const entries = APPROVAL_ROLES.flatMap((role): Array<[ApprovalRole, Approval]> => {
    const approval = request.approvals[role]
    return approval ? [[role, approval]] : []
  })
  return entries.sort(([, a], [, b]) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
}

/** People compare by their trimmed, lower-cased identity (`Alice@Example.com` is `alice@example.com`). */
export function person(identity: string): string {
  return identity.trim().toLowerCase()
}

/**
 * The roles a request lacks, each void one with why, roles void for the same reason grouped:
 * `technical, business (void: 002_event changed since it was approved), security`.
 */
export function describeMissing(state: ApprovalState): string {
  const groups = new Map<string, ApprovalRole[]>()
  for (const role of state.missing) {
    const reason = state.approvals.find((a) => a.role === role)?.reason ?? ''
    groups.set(reason, [...(groups.get(reason) ?? []), role])
  }
  return [...groups].map(([reason, roles]) => `${roles.join(', ')}${reason ? ` (void: ${reason})` : ''}`).join(', ')
}
