import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import type { DialectName } from '../dialects/dialect.js'
import { StrataError } from '../errors/index.js'
import { closest } from '../util/text.js'
import type { MigrationOptions } from '../migration.js'
import type { OpBuilder } from '../ops/op-builder.js'
import type { Operation } from '../ops/operation.js'
import { isConcurrent } from '../ops/reverse.js'
import { parseSqlMigration, parseSqlPair } from '../sql/index.js'
import { CHECKSUM_VERSION, checksum } from './checksum.js'
import { deriveDown, reverseBody, type BodySource } from './derive-down.js'
import { discoverMigrations, type DiscoveredFile } from './discover.js'
import { loadMigrationModule } from './load-module.js'
import type { MigrationBody, MigrationDef, MigrationFile, MigrationPhases, MigrationTimeouts, SqlStatementText } from './migration.js'
import { parseDuration } from '../util/duration.js'

const REVISION_ID = /^[A-Za-z0-9_.-]+$/

/** The keys a migration module's default export may have (SPEC S2). */
const MODULE_KEYS: readonly string[] = ['revision', 'downRevision', 'description', 'dependsOn', 'branchLabels', 'transactional', 'lockTimeout', 'statementTimeout', 'up', 'down', 'change', 'seed', 'validatePreconditions', 'transform', 'validateResults', 'cleanup', 'expand', 'backfill', 'contract', 'abort']

/** A migration before its default parent is known (absent `downRevision` = previous file). */
interface Loaded extends Omit<MigrationDef, 'downRevisions'> {
  readonly explicitDown: readonly string[] | null | undefined
}

/**
 * Loads every migration of `dir` into MigrationDefs, in file-name order, with defaults applied.
 * Throws E_MIGRATION_FILE naming the file for anything malformed; runs no migration code except
 * module top levels and `change()` recording (which never touches a database).
 */
export async function loadMigrations(dir: string, dialect: DialectName): Promise<MigrationDef[]> {
  const files = discoverMigrations(dir)
  const loaded: Loaded[] = []
  for (const file of files) loaded.push(await loadOne(dir, file, dialect))
  return loaded.map(({ explicitDown, ...def }, index) => ({
    ...def,
    downRevisions: explicitDown === undefined ? (index === 0 ? [] : [loaded[index - 1]!.revision]) : explicitDown ?? [],
  }))
}

async function loadOne(dir: string, file: DiscoveredFile, dialect: DialectName): Promise<Loaded> {
  const shown = relative(process.cwd(), file.path) || file.name
  if (file.kind === 'module') return fromModule(dir, file, shown, dialect)
  const upText = read(file.path)
  const downText = file.downPath ? read(file.downPath) : undefined
  const parsed = file.kind === 'sql'
    ? parseSqlMigration(upText, file.path, dialect)
    : parseSqlPair(upText, file.path, downText, file.downPath, dialect)
  const h = parsed.headers
  const revision = checkId(h.revision ?? file.stem, file.path)
  return {
    revision,
    explicitDown: h.downRevision === undefined ? undefined : h.downRevision === null ? null : h.downRevision.map((r) => checkId(r, file.path)),
    dependsOn: h.dependsOn,
    branchLabels: h.branchLabels,
    description: h.description ?? describeStem(file.stem),
    transactional: h.transactional,
    ...timeouts(h.lockTimeoutMs, h.statementTimeoutMs),
    file: fileInfo(dir, file, file.kind === 'sql' ? checksum(upText) : checksum([upText, downText ?? ''])),
    up: (op) => runStatements(op, parsed.up),
    ...(parsed.hasDown ? { down: (op: OpBuilder) => runStatements(op, parsed.down ?? []) } : {}),
    ...(h.lintIgnore.length > 0 ? { lintIgnore: h.lintIgnore } : {}),
    sql: parsed,
  }
}

async function fromModule(dir: string, file: DiscoveredFile, shown: string, dialect: DialectName): Promise<Loaded> {
  const text = read(file.path)
  const options: MigrationOptions = await loadMigrationModule(file.path, shown)
  const fail = (message: string, hint: string): never => {
    throw new StrataError('E_MIGRATION_FILE', `migration ${shown}: ${message}`, { file: file.path, hint })
  }
  for (const key of Object.keys(options)) {
    if (!MODULE_KEYS.includes(key)) {
      const suggestion = closest(key, MODULE_KEYS)
      fail(`unknown option \`${key}\``, suggestion ? `did you mean \`${suggestion}\`?` : `the options are ${MODULE_KEYS.join(', ')}`)
    }
  }
  if (options.transactional !== undefined && typeof options.transactional !== 'boolean') {
    fail('`transactional` must be true or false', 'write transactional: false for a migration that cannot run in a transaction')
  }
  for (const key of ['revision', 'description'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') fail(`\`${key}\` must be a string`, `write ${key}: '…'`)
  }
  const { up, down, change, seed } = options
  const data = dataHooks(options, fail)
  const phased = await phaseHooks(options, { dialect, shown, file: file.path }, fail)
  if (change !== undefined && (up !== undefined || down !== undefined)) {
    fail('defines change() together with up()/down()', 'use change() alone (down is derived) or up() and down()')
  }
  if (up === undefined && change === undefined && !data && !phased) fail('defines neither up() nor change()', 'add `async up(op) { … }`')
  for (const [name, fn] of Object.entries({ up, down, change, seed })) {
    if (fn !== undefined && typeof fn !== 'function') fail(`\`${name}\` must be a function`, `write \`async ${name}(op) { … }\``)
  }
  const revision = checkId(options.revision ?? file.stem, file.path)
  const downRevision = options.downRevision
  const list = (value: unknown, key: string): string[] => {
    if (value === undefined) return []
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(`\`${key}\` must be a list of strings`, `write ${key}: ['…']`)
    return value as string[]
  }
  const explicitDown = downRevision === undefined ? undefined
    : downRevision === null ? null
    : typeof downRevision === 'string' ? [checkId(downRevision, file.path)]
    : list(downRevision, 'downRevision').map((r) => checkId(r, file.path))
  const duration = (key: 'lockTimeout' | 'statementTimeout'): number | undefined => {
    const value = options[key]
    if (value === undefined) return undefined
    const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined
    if (ms === undefined) fail(`\`${key}\` must be a duration such as '5s' or a number of milliseconds`, `write ${key}: '5s'`)
    return ms
  }
  const derivedDown = change ? await deriveDown(change, dialect, shown, file.path) : undefined
  return {
    revision,
    explicitDown,
    dependsOn: list(options.dependsOn, 'dependsOn'),
    branchLabels: list(options.branchLabels, 'branchLabels'),
    description: typeof options.description === 'string' ? options.description : describeStem(file.stem),
    // An expand/contract migration's up (expand, then backfill) commits op by op, checkpointed.
    transactional: phased ? false : options.transactional ?? true,
    ...timeouts(duration('lockTimeout'), duration('statementTimeout')),
    file: fileInfo(dir, file, checksum(text)),
    up: phased ? phased.up : data ? dataLifecycle(data, revision) : (up ?? change)!.bind(options),
    ...(data ? { data: true } : {}),
    ...(phased ? { phases: phased.phases, ...(phased.down ? { down: phased.down } : {}) } : {}),
    ...(down ? { down: down.bind(options) } : derivedDown ? { down: derivedDown } : {}),
    ...(seed ? { seed: seed.bind(options) } : {}),
  }
}

function timeouts(lockMs: number | undefined, statementMs: number | undefined): { timeouts?: MigrationTimeouts } {
  if (lockMs === undefined && statementMs === undefined) return {}
  return { timeouts: { ...(lockMs !== undefined ? { lockMs } : {}), ...(statementMs !== undefined ? { statementMs } : {}) } }
}

function runStatements(op: OpBuilder, statements: readonly SqlStatementText[]): void {
  for (const statement of statements) op.execute(statement.sql)
}

function fileInfo(dir: string, file: DiscoveredFile, sum: string): MigrationFile {
  return { path: file.path, relativePath: relative(dir, file.path), format: file.kind, checksum: sum, checksumVersion: CHECKSUM_VERSION }
}

function checkId(id: string, file: string): string {
  if (!REVISION_ID.test(id) || id.includes('..')) {
    throw new StrataError('E_MIGRATION_FILE', `revision id \`${id}\` in ${file} is not valid`, {
      file,
      hint: 'revision ids use letters, digits, `_`, `.` and `-` only, and never `..`',
    })
  }
  return id
}

/** `001_add_event_name_to_graphics` → `add event name to graphics`. */
function describeStem(stem: string): string {
  return stem.replace(/^[0-9]+[_-]?/, '').replace(/[_-]+/g, ' ').trim()
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new StrataError('E_MIGRATION_FILE', `cannot read ${path}: ${(error as Error).message}`, { file: path }, { cause: error })
  }
}

interface DataHooks {
  readonly validatePreconditions?: (op: OpBuilder) => unknown
  readonly transform: (op: OpBuilder) => unknown
  readonly validateResults?: (op: OpBuilder) => unknown
  readonly cleanup?: (op: OpBuilder) => unknown
}

/** The hooks of a data migration (SPEC S7), refusing a mix with up/down/change. */
function dataHooks(options: MigrationOptions, fail: (message: string, hint: string) => never): DataHooks | null {
  const hooks = ['validatePreconditions', 'transform', 'validateResults', 'cleanup'] as const
  const present = hooks.filter((h) => options[h] !== undefined)
  if (present.length === 0) return null
  if (options.transform === undefined) fail(`defines ${present.join(', ')} without transform()`, 'a data migration needs `async transform(op) { … }`')
  for (const key of ['up', 'down', 'change'] as const) {
    if (options[key] !== undefined) fail(`mixes ${key}() with the data-migration hooks (${present.join(', ')})`, 'use dataMigration({ transform, … }) alone, or up/down alone')
  }
  for (const h of present) if (typeof options[h] !== 'function') fail(`\`${h}\` must be a function`, `write \`async ${h}(op) { … }\``)
  const bind = <K extends (typeof hooks)[number]>(k: K) => (options[k] ? { [k]: (options[k] as (op: OpBuilder) => unknown).bind(options) } : {})
  return { ...bind('validatePreconditions'), transform: options.transform!.bind(options), ...bind('validateResults'), ...bind('cleanup') } as DataHooks
}

/**
 * A data migration as one up (SPEC S7): preconditions (false or a throw: E_PREFLIGHT, a refusal),
 * transform, results (false or a throw: E_VALIDATION, the data goes back), then cleanup.
 */
function dataLifecycle(data: DataHooks, revision: string): (op: OpBuilder) => Promise<void> {
  const check = async (hook: ((op: OpBuilder) => unknown) | undefined, op: OpBuilder, code: 'E_PREFLIGHT' | 'E_VALIDATION', what: string): Promise<void> => {
    if (!hook) return
    let verdict: unknown
    try {
      verdict = await hook(op)
    } catch (error) {
      throw new StrataError(code, `${what} of ${revision} failed: ${error instanceof Error ? error.message : String(error)}`, { revision }, { cause: error })
    }
    if (verdict === false) throw new StrataError(code, `${what} of ${revision} returned false`, { revision })
  }
  return async (op) => {
    await check(data.validatePreconditions, op, 'E_PREFLIGHT', 'validatePreconditions')
    await data.transform(op)
    await check(data.validateResults, op, 'E_VALIDATION', 'validateResults')
    await data.cleanup?.(op)
  }
}

const PHASES = ['expand', 'backfill', 'contract', 'abort'] as const

/**
 * An expand/contract migration (SPEC S7): `expand` and `contract` required, `backfill` and
 * `abort` optional, never mixed with up/down/change or the data-migration hooks. Without an
 * `abort`, the expand ops must each have a reverse (recorded now, without a database). The
 * completed revision has a down only when the contract ops are reversible too.
 */
async function phaseHooks(
  options: MigrationOptions,
  where: { dialect: DialectName; shown: string; file: string },
  fail: (message: string, hint: string) => never,
): Promise<{ up: MigrationBody; down?: MigrationBody; phases: MigrationPhases } | null> {
  const present = PHASES.filter((p) => options[p] !== undefined)
  if (present.length === 0) return null
  for (const key of ['up', 'down', 'change', 'transform', 'validatePreconditions', 'validateResults', 'cleanup'] as const) {
    if (options[key] !== undefined) fail(`mixes ${key}() with the expand/contract phases (${present.join(', ')})`, 'an expand/contract migration has expand, backfill, contract and abort instead of up and down')
  }
  for (const p of present) if (typeof options[p] !== 'function') fail(`\`${p}\` must be a function`, `write \`async ${p}(op) { … }\``)
  for (const p of ['expand', 'contract'] as const) {
    if (options[p] === undefined) fail(`defines ${present.join(', ')} without ${p}()`, `an expand/contract migration needs \`async ${p}(op) { … }\``)
  }
  const expand = options.expand!.bind(options)
  const backfill = options.backfill?.bind(options)
  const contract = options.contract!.bind(options)
  const source = (hook: string, hint: string): BodySource => ({ ...where, hook, hint })
  let abort: MigrationBody
  let abortPart: ((done: ReadonlySet<number>) => MigrationBody) | undefined
  let expandOps: readonly Operation[] | undefined
  // An index built CONCURRENTLY is dropped the same way, which no transaction may hold.
  let abortTransactional = options.transactional ?? true
  if (options.abort) {
    abort = options.abort.bind(options)
  } else {
    const reversal = await reverseBody(expand, source('expand()', 'write `async abort(op) { … }` undoing what expand() does'))
    abort = reversal.replay()
    abortPart = (done) => reversal.replay((index) => done.has(index))
    expandOps = reversal.recorded
    if (reversal.reversed.some((r) => isConcurrent(r.op))) abortTransactional = false
  }
  // A contract that reads the database or drops what it cannot bring back has no reverse: the
  // completed revision is then irreversible (like a migration without down).
  const uncontract = await reverseBody(contract, source('contract()', '')).then((r) => r.replay(), () => undefined)
  const expandThenBackfill: MigrationBody = async (op) => {
    await expand(op)
    await backfill?.(op)
  }
  const phases: MigrationPhases = {
    transactional: options.transactional ?? true,
    abortTransactional,
    expand: expandThenBackfill,
    ...(expandOps ? { expandOps } : {}),
    contract,
    abort,
    ...(abortPart ? { abortPart } : {}),
    ...(uncontract ? { uncontract } : {}),
  }
  return {
    up: expandThenBackfill,
    ...(uncontract ? { down: async (op: OpBuilder) => {
      await uncontract(op)
      await abort(op)
    } } : {}),
    phases,
  }
}
