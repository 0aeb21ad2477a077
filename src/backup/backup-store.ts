import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync, chmodSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { CheckResult } from '../checks/check.js'
import type { DatabaseUrl, DialectName } from '../dialects/dialect.js'
import { StrataError, isStrataError } from '../errors/index.js'
import { freeBytesAt } from '../util/disk.js'
import { timeId } from '../util/ids.js'
import { VERSION } from '../version.js'
import type { BackupEngine, RowCounts } from './engine.js'
import { hashFile } from './hash.js'
import { runProgram } from './programs.js'

/** Where and what to back up: one database, one backup directory (SPEC S5, S12 `backup:`). */
export interface BackupTarget {
  readonly url: DatabaseUrl
  readonly dir: string
  readonly environment: string | null
  /** Folder `files` are relative to (the config's folder). */
  readonly baseDir: string
  /** Application files to archive beside the copy (`backup.files`). */
  readonly files: readonly string[]
  /** Retention: the newest N backups of this database are kept (`backup.keep`); null keeps all. */
  readonly keep: number | null
}

/** The application files archived with a backup. */
export interface FilesArchive {
  readonly file: string
  readonly size: number
  readonly sha256: string
  readonly paths: readonly string[]
}

/** `<id>.json` beside each copy: everything verify needs to trust it later (SPEC S5). */
export interface BackupManifest {
  readonly manifestVersion: 1
  readonly id: string
  readonly createdAt: string
  readonly tool: { readonly name: 'strata-migrate'; readonly version: string }
  readonly dialect: DialectName
  /** The database's URL with credentials masked. */
  readonly source: string
  readonly environment: string | null
  /** Revisions applied when the copy was taken. */
  readonly revisions: readonly string[]
  /** Why it was taken: `manual`, or the command whose run took it (`up`, `down`). */
  readonly reason: string
  readonly runId: string | null
  /** The copy's file name, in the same folder as the manifest. */
  readonly file: string
  readonly format: string
  readonly size: number
  readonly sha256: string
  readonly rowCounts: RowCounts
  readonly integrity: string
  readonly files: FilesArchive | null
  /** The last verification; a backup is verified as it is created. */
  readonly verified: { readonly at: string; readonly ok: boolean } | null
}

export interface BackupListing extends BackupManifest {
  /** Absolute path of the copy. */
  readonly path: string
}

export interface Verification {
  readonly backup: BackupListing
  readonly ok: boolean
  readonly checks: readonly CheckResult[]
}

/**
 * Backups on disk: ids, manifests, checksums, file modes and retention. The engine writes and
 * reads the copies; everything that makes a copy trustworthy lives here, once, for every engine.
 */
export class BackupStore {
  readonly #target: BackupTarget
  readonly #engine: BackupEngine

  constructor(target: BackupTarget, engine: BackupEngine) {
    this.#target = target
    this.#engine = engine
  }

  get dir(): string {
    return this.#target.dir
  }

  /**
   * Takes a copy, reads it back (integrity, row counts, sha256) and writes its manifest last: a
   * copy without a manifest is an unfinished backup and is never listed. Any failure removes
   * what was written and is E_BACKUP.
   */
  async create(context: { revisions: readonly string[]; reason: string; runId?: string | null }): Promise<BackupListing> {
    const target = this.#target
    this.prepareDir()
    const id = timeId()
    const file = `${id}${this.#engine.extension}`
    const path = join(target.dir, file)
    const written = [path, `${path}-journal`, `${path}-wal`, `${path}-shm`, join(target.dir, `${id}.files.tar.gz`), this.#manifestPath(id)]
    try {
      const created = await this.#engine.create(target.url, path)
      const [hash, facts] = await Promise.all([hashFile(path, { sync: true }), created ? Promise.resolve(created) : this.#engine.inspect(target.url, path)])
      if (facts.integrity !== 'ok') {
        throw new StrataError('E_BACKUP', `the database fails its integrity check, so its copy would too: ${facts.integrity}`, { hint: 'repair the database before backing it up (SQLite: `.recover`), then run again' })
      }
      const files = await this.#archiveFiles(id)
      const manifest: BackupManifest = {
        manifestVersion: 1,
        id,
        createdAt: new Date().toISOString(),
        tool: { name: 'strata-migrate', version: VERSION },
        dialect: target.url.dialect,
        source: target.url.redacted,
        environment: target.environment,
        revisions: [...context.revisions],
        reason: context.reason,
        runId: context.runId ?? null,
        file,
        format: this.#engine.format,
        size: hash.size,
        sha256: hash.sha256,
        rowCounts: facts.rowCounts,
        integrity: facts.integrity,
        files,
        verified: { at: new Date().toISOString(), ok: true },
      }
      this.#writeManifest(manifest)
      return { ...manifest, path }
    } catch (error) {
      for (const leftover of written) rmSync(leftover, { force: true })
      throw asBackupError(error, `cannot write a backup to ${target.dir}`)
    }
  }

  /** Manifests, newest first; only this database's unless `all`. */
  list(options: { all?: boolean } = {}): BackupListing[] {
    if (!existsSync(this.#target.dir)) return []
    const listings: BackupListing[] = []
    for (const name of readdirSync(this.#target.dir)) {
      if (!name.endsWith('.json')) continue
      const manifest = readManifest(join(this.#target.dir, name))
      if (!manifest) continue
      if (!options.all && manifest.source !== this.#target.url.redacted) continue
      listings.push({ ...manifest, path: join(this.#target.dir, manifest.file) })
    }
    const key = (b: BackupListing): string => `${b.createdAt}\u0000${b.id}`
    return listings.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0))
  }

  /** The backup `id` (or unique prefix), default the newest of this database. */
  find(id?: string): BackupListing {
    if (!id) {
      const newest = this.list()[0]
      if (!newest) {
        throw new StrataError('E_BACKUP', `there is no backup of ${this.#target.url.redacted} in ${this.#target.dir}`, { hint: 'run `strata backup create` first' })
      }
      return newest
    }
    const matches = this.list({ all: true }).filter((b) => b.id === id || b.id.startsWith(id))
    const exact = matches.find((b) => b.id === id)
    if (exact) return exact
    if (matches.length === 1) return matches[0]!
    throw new StrataError('E_BACKUP', matches.length === 0 ? `no backup ${id} in ${this.#target.dir}` : `backup id ${id} is ambiguous: ${matches.map((b) => b.id).join(', ')}`, {
      hint: 'run `strata backup list --all` for the ids',
    })
  }

  /**
   * Checks a copy against its manifest: present, size and sha256, integrity and row counts of the
   * copy itself (a trial restore on the servers), and the files archive. Records the outcome in
   * the manifest.
   */
  async verify(id?: string): Promise<Verification> {
    const backup = this.find(id)
    const checks: CheckResult[] = []
    const fail = (name: string, message: string): Verification => {
      checks.push({ name, status: 'fail', message })
      return this.#recordVerification(backup, checks)
    }
    if (!existsSync(backup.path)) return fail('file', `${backup.path} is missing`)
    const hash = await hashFile(backup.path)
    if (hash.size !== backup.size) return fail('size', `${backup.file} is ${hash.size} bytes, the manifest says ${backup.size}`)
    if (hash.sha256 !== backup.sha256) return fail('sha256', `${backup.file} does not match its sha256 (the file changed or is corrupted)`)
    checks.push({ name: 'checksum', status: 'pass', message: `${backup.size} bytes, sha256 ${backup.sha256.slice(0, 12)}… matches` })
    let facts
    try {
      facts = await this.#engine.inspect(this.#target.url, backup.path)
    } catch (error) {
      return fail('readable', isStrataError(error) || error instanceof Error ? error.message : String(error))
    }
    checks.push({ name: 'integrity', status: facts.integrity === 'ok' ? 'pass' : 'fail', message: facts.integrity === 'ok' ? 'the copy passes its integrity check' : facts.integrity })
    const diff = countDifferences(backup.rowCounts, facts.rowCounts)
    checks.push(diff.length === 0
      ? { name: 'row-counts', status: 'pass', message: `${Object.keys(backup.rowCounts).length} tables, row counts equal to the manifest` }
      : { name: 'row-counts', status: 'fail', message: `row counts differ from the manifest: ${diff.join('; ')}` })
    if (backup.files) {
      const archive = join(dirname(backup.path), backup.files.file)
      const files = existsSync(archive) ? await hashFile(archive) : null
      checks.push(files?.sha256 === backup.files.sha256
        ? { name: 'files', status: 'pass', message: `${backup.files.file} matches its sha256` }
        : { name: 'files', status: 'fail', message: files ? `${backup.files.file} does not match its sha256` : `${backup.files.file} is missing` })
    }
    return this.#recordVerification(backup, checks)
  }

  /**
   * Quick trust check before a restore: present, size and sha256. A corrupted copy never
   * reaches the engine.
   */
  async assertIntact(backup: BackupListing): Promise<void> {
    if (backup.dialect !== this.#target.url.dialect) {
      throw new StrataError('E_BACKUP', `backup ${backup.id} is a ${backup.dialect} backup; the database is ${this.#target.url.dialect}`, {})
    }
    const hash = existsSync(backup.path) ? await hashFile(backup.path) : null
    if (!hash || hash.size !== backup.size || hash.sha256 !== backup.sha256) {
      throw new StrataError('E_BACKUP', `backup ${backup.id} is ${hash ? 'corrupted: its size or sha256 does not match the manifest' : `missing its file ${backup.file}`}; refusing to restore it`, {
        backupId: backup.id,
        hint: 'restore another backup (`strata backup list`); run `strata backup verify ID` to check one',
      })
    }
  }

  /** Deletes all but the newest `keep` backups of this database; returns the deleted ids. */
  prune(keep = this.#target.keep): string[] {
    if (keep === null) return []
    const removed: string[] = []
    for (const backup of this.list().slice(keep)) {
      rmSync(backup.path, { force: true })
      if (backup.files) rmSync(join(this.#target.dir, backup.files.file), { force: true })
      rmSync(this.#manifestPath(backup.id), { force: true })
      removed.push(backup.id)
    }
    return removed
  }

  /**
   * Creates the directory 0700 (tightening an existing one) and proves it writable, so an
   * unwritable directory stops a run before any change.
   */
  prepareDir(): void {
    const dir = this.#target.dir
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700)
      const probe = join(dir, `.strata-probe-${process.pid}`)
      const fd = openSync(probe, 'w', 0o600)
      try {
        writeSync(fd, 'probe')
        fsyncSync(fd)
      } finally {
        closeSync(fd)
        rmSync(probe, { force: true })
      }
    } catch (error) {
      throw new StrataError('E_BACKUP', `the backup directory ${dir} is not writable: ${(error as Error).message}`, {
        hint: 'set backup.dir in the config to a writable folder, or fix the folder\'s permissions and free space',
      }, { cause: error })
    }
  }

  /** Bytes free for backups: on the backup directory's file system (or its nearest existing parent). */
  freeBytes(): number {
    return freeBytesAt(this.#target.dir)
  }

  estimateSize(): Promise<number> {
    return this.#engine.estimateSize(this.#target.url)
  }

  #manifestPath(id: string): string {
    return join(this.#target.dir, `${id}.json`)
  }

  #writeManifest(manifest: BackupManifest): void {
    const path = this.#manifestPath(manifest.id)
    const temp = `${path}.tmp`
    const fd = openSync(temp, 'w', 0o600)
    try {
      writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
  }

  #recordVerification(backup: BackupListing, checks: readonly CheckResult[]): Verification {
    const ok = checks.every((c) => c.status !== 'fail')
    const { path: _path, ...manifest } = backup
    const verified = { at: new Date().toISOString(), ok }
    try {
      this.#writeManifest({ ...manifest, verified })
    } catch {
      // A read-only backup folder can still be verified; the outcome is reported, not stored.
    }
    return { backup: { ...backup, verified }, ok, checks }
  }

  async #archiveFiles(id: string): Promise<FilesArchive | null> {
    const { files, baseDir, dir } = this.#target
    if (files.length === 0) return null
    for (const entry of files) {
      const full = resolve(baseDir, entry)
      if (!existsSync(full)) throw new StrataError('E_BACKUP', `backup.files lists ${entry}, which does not exist in ${baseDir}`, { hint: 'fix backup.files in the config' })
      if (relative(baseDir, full).startsWith('..')) throw new StrataError('E_BACKUP', `backup.files entry ${entry} is outside the project folder ${baseDir}`, {})
    }
    const file = `${id}.files.tar.gz`
    const path = join(dir, file)
    closeSync(openSync(path, 'wx', 0o600))
    const paths = files.map((f) => relative(baseDir, resolve(baseDir, f)) || '.')
    await runProgram('tar', ['-czf', path, '-C', baseDir, '--', ...paths])
    const hash = await hashFile(path)
    return { file, size: hash.size, sha256: hash.sha256, paths }
  }
}

/** Tables whose counts differ between two sets, as `t: 3 → 5` (absent tables included). */
export function countDifferences(expected: RowCounts, actual: RowCounts): string[] {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()
  const out: string[] = []
  for (const name of names) {
    const a = expected[name]
    const b = actual[name]
    if (a !== b) out.push(`${name}: ${a ?? 'absent'} → ${b ?? 'absent'}`)
  }
  return out
}

function readManifest(path: string): BackupManifest | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<BackupManifest>
    return parsed.manifestVersion === 1 && typeof parsed.id === 'string' && typeof parsed.file === 'string' ? (parsed as BackupManifest) : null
  } catch {
    return null
  }
}

/** Disk-full and permission failures name the folder; engine errors keep their message. */
function asBackupError(error: unknown, context: string): StrataError {
  const code = (error as NodeJS.ErrnoException).code
  const text = error instanceof Error ? error.message : String(error)
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || /no space left|disk is full|database or disk is full/i.test(text)) {
    return new StrataError('E_BACKUP', `${context}: the disk is full (${text}); the partial backup was removed and nothing else changed`, {
      hint: 'free space on the backup folder\'s disk or point backup.dir elsewhere, then run again',
    }, { cause: error })
  }
  if (isStrataError(error)) return error
  return new StrataError('E_BACKUP', `${context}: ${text}`, { hint: 'check the backup folder\'s permissions and free space' }, { cause: error })
}
