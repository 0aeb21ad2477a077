import { dirname } from 'node:path'
import type { Command } from 'commander'
import type { Strata } from '../../api/strata.js'
import type { ChangeRequestSettings, ChangeRequestView } from '../../changes/change-requests.js'
import { StrataError } from '../../errors/index.js'
import type { Project } from '../../pipeline/session.js'
import { globals, openStrata } from '../context.js'
import { out, type GlobalOptions } from '../output.js'

/** What a `cr` subcommand works with: the API, the change request settings and the migration checksums. */
interface CrContext {
  readonly strata: Strata
  readonly settings: ChangeRequestSettings
  readonly project: Project
  readonly checksums: ReadonlyMap<string, string>
  readonly changes: typeof import('../../changes/change-requests.js')
}

/** `strata cr new|approve|show|list` (SPEC S9): change requests and their approvals. */
export function registerCr(program: Command): void {
  const cr = program.command('cr').description('change requests: write one for the pending migrations, approve it, show and list them')
  cr.command('new <title...>')
    .description('write changes/CR-YYYY-NNN.yaml covering the pending migrations (or --revisions)')
    .option('--revisions <list>', 'the revisions it covers, comma-separated (default: the pending ones)')
    .action(async (words: string[], local: { revisions?: string }, command: Command) => newRequest(words.join(' ').trim(), local.revisions, globals(command)))
  cr.command('approve <id>')
    .description('approve a change request for one role, tied to the migrations as they are now')
    .requiredOption('--role <role>', 'technical, business or security')
    .option('--as <who>', "who approves (default: git's user.email, else $USER@host)")
    .action(async (id: string, local: { role: string; as?: string }, command: Command) => approve(id, local, globals(command)))
  cr.command('show <id>')
    .description('show a change request and whether each approval is still valid')
    .action(async (id: string, _local, command: Command) => show(id, globals(command)))
  cr.command('list')
    .description('list the change requests and whether each is approved')
    .action(async (_local, command: Command) => list(globals(command)))
}

async function open(options: GlobalOptions): Promise<CrContext> {
  const strata = await openStrata(options)
  const changes = await import('../../changes/change-requests.js')
  // The config check comes first: without a config there is no folder to read (SPEC S12).
  const settings = changes.changeRequestSettings(strata.config)
  const project = await strata.project()
  return { strata, settings, project, checksums: changes.checksumsOf(project.migrations), changes }
}

/** `--as`, else git's user.email in the config's folder, else user@host. */
async function identity(ctx: CrContext, given: string | undefined): Promise<string> {
  if (given !== undefined) return given
  const { whoAmI } = await import('../../pipeline/session.js')
  return ctx.changes.defaultIdentity(dirname(ctx.strata.config.file ?? '.'), whoAmI)
}

async function newRequest(title: string, revisions: string | undefined, options: GlobalOptions): Promise<void> {
  if (title === '') throw new StrataError('E_USAGE', 'a change request needs a title', { hint: 'e.g. strata cr new "Add event_name to graphics"' })
  const ctx = await open(options)
  const migrations = revisions === undefined ? await pendingRevisions(ctx) : resolveRevisions(ctx.project, revisions)
  const entry = ctx.changes.createChangeRequest(ctx.settings.dir, { title, requester: await identity(ctx, undefined), migrations })
  if (options.json) return out.json({ id: entry.request.id, path: entry.path, migrations: entry.request.migrations })
  out.text(`${entry.request.id}  ${entry.path}`)
  out.info(`wrote ${entry.request.id} covering ${migrations.join(', ')}; fill in its fields, then ask for approvals: strata cr approve ${entry.request.id} --role technical|business|security`)
}

/** The revisions `up` would apply on the selected environment's database. */
async function pendingRevisions(ctx: CrContext): Promise<string[]> {
  const status = await ctx.strata.status()
  if (status.pending.length > 0) return [...status.pending]
  const where = status.environment ? `environment \`${status.environment}\` (${status.database.url})` : status.database.url
  throw new StrataError('E_USAGE', `nothing is pending on ${where}, so there is nothing for a change request to cover`, {
    hint: 'name the revisions with --revisions REV,… (or `strata new` a migration first)',
  })
}

/** Each listed revision (a full id, a unique prefix or a branch label) as one revision id, in graph order. */
function resolveRevisions(project: Project, text: string): string[] {
  const names = [...new Set(text.split(',').map((r) => r.trim()).filter((r) => r !== ''))]
  if (names.length === 0) throw new StrataError('E_USAGE', '--revisions is empty', { hint: 'pass --revisions REV,… (see `strata history`)' })
  const ids = new Set<string>()
  for (const name of names) {
    const resolved = project.graph.has(name) ? [name] : project.graph.resolve(name)
    if (resolved.length !== 1) {
      throw new StrataError('E_USAGE', `--revisions: \`${name}\` names ${resolved.length === 0 ? 'no revision' : `${resolved.length} revisions`}, not one`, {
        hint: 'list the revisions by id, comma-separated (`strata history` shows them)',
      })
    }
    ids.add(resolved[0]!)
  }
  return project.graph.ordered.filter((r) => ids.has(r))
}

async function approve(id: string, local: { role: string; as?: string }, options: GlobalOptions): Promise<void> {
  const { APPROVAL_ROLES, isApprovalRole } = await import('../../changes/change-requests.js')
  if (!isApprovalRole(local.role)) {
    throw new StrataError('E_USAGE', `unknown approval role \`${local.role}\``, { hint: `use --role ${APPROVAL_ROLES.join('|')}` })
  }
  const ctx = await open(options)
  const result = ctx.changes.approveChangeRequest(ctx.settings.dir, id, {
    role: local.role,
    by: await identity(ctx, local.as),
    checksums: ctx.checksums,
    allowSameApprover: ctx.settings.allowSameApprover,
  })
  const view = ctx.changes.viewChangeRequest(result.entry, ctx.checksums, ctx.settings.allowSameApprover)
  const { by, at } = result.approval
  const replaced = result.replaced ? { by: result.replaced.by, at: result.replaced.at } : null
  if (options.json) return out.json({ id: view.id, role: local.role, by, at, replaced, approved: view.approved, missing: view.missing })
  out.text(`${view.id}  ${local.role} approved by ${by} at ${at}`)
  if (replaced) out.info(`replaces the ${local.role} approval by ${replaced.by} of ${replaced.at}`)
  out.info(verdict(ctx, view))
}

async function show(id: string, options: GlobalOptions): Promise<void> {
  const ctx = await open(options)
  const view = ctx.changes.viewChangeRequest(ctx.changes.readChangeRequest(ctx.settings.dir, id), ctx.checksums, ctx.settings.allowSameApprover)
  if (options.json) {
    // Approvals exactly as SPEC S9 lists them; why a void one is void goes beside them.
    const voided = view.approvals.filter((a) => !a.valid).map((a) => ({ role: a.role, reason: a.reason ?? null }))
    return out.json({ ...view, approvals: view.approvals.map(({ role, by, at, valid }) => ({ role, by, at, valid })), voided })
  }
  for (const line of describe(ctx, view)) out.text(line)
}

async function list(options: GlobalOptions): Promise<void> {
  const ctx = await open(options)
  const views = ctx.changes.listChangeRequests(ctx.settings.dir).map((e) => ctx.changes.viewChangeRequest(e, ctx.checksums, ctx.settings.allowSameApprover))
  if (options.json) return out.json({ changeRequests: views.map((v) => ({ id: v.id, title: v.title, migrations: v.migrations, approved: v.approved })) })
  if (views.length === 0) return out.info(`no change requests in ${ctx.settings.dir} yet (\`strata cr new TITLE\` writes one)`)
  for (const v of views) {
    out.text(`${v.id}  ${v.approved ? 'approved' : `not approved (needs ${v.missing.join(', ')})`}  ${v.title}  [${v.migrations.join(', ')}]`)
  }
}

/** The fields of the view that hold text. */
type TextField = { [K in keyof ChangeRequestView]: ChangeRequestView[K] extends string ? K : never }[keyof ChangeRequestView]

const PROSE_LABELS: ReadonlyArray<readonly [TextField, string]> = [
  ['summary', 'summary'],
  ['businessJustification', 'business justification'],
  ['technicalDetails', 'technical details'],
  ['riskAssessment', 'risk assessment'],
  ['testingPlan', 'testing plan'],
  ['rollbackPlan', 'rollback plan'],
  ['schedule', 'schedule'],
  ['priority', 'priority'],
]

/** The human text of `cr show`: the request, each approval (and why a void one is void), the verdict. */
function describe(ctx: CrContext, view: ChangeRequestView): string[] {
  const lines = [
    `${view.id}: ${view.title}`,
    `  file: ${view.path}`,
    `  requester: ${view.requester || '(unknown)'}    created: ${view.createdAt || '(unknown)'}`,
    `  migrations: ${view.migrations.join(', ')}`,
  ]
  for (const [key, label] of PROSE_LABELS) {
    const value = view[key].trim()
    lines.push(`  ${label}: ${value === '' ? '(not filled in)' : value.split('\n').join('\n    ')}`)
  }
  lines.push('  approvals:')
  for (const role of ctx.changes.APPROVAL_ROLES) {
    const approval = view.approvals.find((a) => a.role === role)
    if (!approval) lines.push(`    ${role.padEnd(9)}  (none)`)
    else lines.push(`    ${role.padEnd(9)}  ${approval.by}  ${approval.at}  ${approval.valid ? 'valid' : `void: ${approval.reason ?? 'invalid'}`}`)
  }
  lines.push(verdict(ctx, view))
  return lines
}

function verdict(ctx: CrContext, view: ChangeRequestView): string {
  if (view.approved) return `${view.id} is APPROVED (technical, business and security)`
  const roles = ctx.changes.describeMissing(view)
  const what = view.missing.length === 1 ? `a valid ${roles} approval` : `valid ${roles} approvals`
  return `${view.id} is NOT APPROVED: it needs ${what}; strata cr approve ${view.id} --role ${view.missing[0] ?? 'technical'}`
}
