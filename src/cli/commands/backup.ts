import type { Command } from 'commander'
import type { BackupListing } from '../../backup/backup-store.js'
import { StrataError } from '../../errors/index.js'
import { EXIT_CODE_OF } from '../../errors/codes.js'
import { confirmer, globals, openStrata } from '../context.js'
import { out } from '../output.js'
import { printChecks } from './checks.js'
import { mib } from '../../util/text.js'

export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('create, list, verify, restore and prune backups of the database')
  backup
    .command('create')
    .description('take a backup now (verified as it is written; servers get a trial restore)')
    .action(async (_local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options, true)
      const created = await strata.backup.create()
      if (options.json) return out.json(summary(created))
      out.text(`${created.id}  ${created.path}  ${mib(created.size, 2)}  sha256 ${created.sha256}`)
      out.info(`backup ${created.id} of ${created.source}: ${Object.keys(created.rowCounts).length} table(s), integrity ${created.integrity}${created.files ? `, files ${created.files.file}` : ''}`)
    })
  backup
    .command('list')
    .description('list the backups of this database, newest first')
    .option('--all', 'also backups of other databases in the same folder')
    .action(async (local: { all?: boolean }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const backups = await strata.backup.list({ all: local.all ?? false })
      if (options.json) {
        return out.json({ backups: backups.map((b) => ({ id: b.id, path: b.path, createdAt: b.createdAt, size: b.size, sha256: b.sha256, verified: b.verified?.ok ?? false, verifiedAt: b.verified?.at ?? null, source: b.source, revisions: b.revisions })) })
      }
      if (backups.length === 0) return out.info('no backups yet (`strata backup create` takes one)')
      for (const b of backups) {
        out.text(`${b.id}  ${b.createdAt}  ${mib(b.size, 2).padStart(10)}  ${b.verified ? (b.verified.ok ? 'verified' : 'FAILED  ') : 'unverified'}  ${b.revisions.at(-1) ?? 'base'}${local.all ? `  ${b.source}` : ''}`)
      }
    })
  backup
    .command('verify [id]')
    .description('check a backup (default: the newest): sha256, integrity, row counts, trial restore on servers')
    .action(async (id: string | undefined, _local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options, true)
      const result = await strata.backup.verify(id)
      if (options.json) return out.json({ ok: result.ok, id: result.backup.id, checks: result.checks })
      printChecks(result.checks)
      if (result.ok) out.info(`backup ${result.backup.id} verified`)
      else out.info(`error[E_BACKUP]: backup ${result.backup.id} failed verification; do not restore it`)
      if (!result.ok) process.exitCode = EXIT_CODE_OF.E_BACKUP
    })
  backup
    .command('restore [id]')
    .description('replace the database with a backup (default: the newest), under the migration lock')
    .action(async (id: string | undefined, _local, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options, true)
      const result = await strata.backup.restore(id, { yes: options.yes ?? false, ...confirmer() })
      if (options.json) return out.json({ ok: true, id: result.backup.id, runId: result.runId, from: result.from, to: result.to })
      out.info(`restored backup ${result.backup.id} (taken ${result.backup.createdAt}); now at ${result.to.join(', ') || 'base'} (run ${result.runId})`)
    })
  backup
    .command('prune')
    .description('delete all but the newest N backups of this database (backup.keep, or --keep)')
    .option('--keep <n>', 'how many to keep')
    .action(async (local: { keep?: string }, command: Command) => {
      const options = globals(command)
      const strata = await openStrata(options)
      const keep = local.keep === undefined ? strata.config.raw.backup?.keep : Number(local.keep)
      if (keep === undefined || !Number.isInteger(keep) || keep < 0) {
        throw new StrataError('E_USAGE', local.keep === undefined ? 'how many backups to keep? set backup.keep in the config or pass --keep N' : `--keep must be a whole number, got \`${local.keep}\``)
      }
      const removed = await strata.backup.prune(keep)
      if (options.json) return out.json({ ok: true, removed, kept: keep })
      out.info(removed.length ? `removed ${removed.length} backup(s): ${removed.join(', ')}` : `nothing to prune (at most ${keep} kept)`)
    })
}

function summary(b: BackupListing): Record<string, unknown> {
  return { id: b.id, path: b.path, sha256: b.sha256, size: b.size, createdAt: b.createdAt, source: b.source, revisions: b.revisions, rowCounts: b.rowCounts, integrity: b.integrity, verified: b.verified?.ok ?? false, files: b.files }
}
