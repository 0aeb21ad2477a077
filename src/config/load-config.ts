import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import type { ZodError, ZodIssue } from 'zod/v3'
import type { DatabaseUrl } from '../dialects/dialect.js'
import { parseDatabaseUrl } from '../dialects/url.js'
import { StrataError, isStrataError } from '../errors/index.js'
import { parseWindows } from '../policy/maintenance-window.js'
import { closest } from '../util/text.js'
import { KNOWN_KEYS, configSchema, type ConfigFile, type Policy } from './schema.js'

/** Policy with every default filled in (SPEC S12). */
export interface ResolvedPolicy {
  readonly requireBackup: boolean
  readonly requireChangeRequest: boolean
  readonly requireRehearsal: boolean
  readonly maintenanceWindow: readonly string[]
  readonly lintFailOn: 'error' | 'warning' | 'info' | 'never'
  readonly onFailure: 'rollback' | 'stop' | 'restore'
  readonly strategy: 'rolling' | 'blue-green' | 'direct'
  readonly confirm: boolean
  readonly rehearsalMaxAge: string
}

export interface ResolvedConfig {
  /** Absolute path of the config file, or null when running from flags alone. */
  readonly file: string | null
  /** Folder relative paths resolve from: the config's folder, else the working directory. */
  readonly baseDir: string
  readonly migrationsDir: string
  readonly tablePrefix: string
  readonly environment: string | null
  readonly url: DatabaseUrl
  readonly policy: ResolvedPolicy
  readonly raw: ConfigFile
}

export interface ConfigOptions {
  /** A config file path, or the config itself as an object (the API, SPEC S14). */
  readonly config?: string | ConfigFile
  readonly env?: string
  readonly url?: string
  readonly migrations?: string
  readonly cwd?: string
  readonly environ?: NodeJS.ProcessEnv
}

/** Reads and validates the config file, picks the environment and resolves every path. */
export function loadConfig(options: ConfigOptions = {}): ResolvedConfig {
  const cwd = options.cwd ?? process.cwd()
  const environ = options.environ ?? process.env
  const inline = typeof options.config === 'object' && options.config !== null
    ? validateConfig(expandValues(options.config, environ, null), '(config object)')
    : undefined
  const file = inline ? null : findConfigFile(options.config as string | undefined, cwd)
  const raw = inline ?? (file ? readConfigFile(file, environ) : {})
  const baseDir = file ? dirname(file) : cwd
  const hasConfig = inline !== undefined || file !== null
  const shown = file ?? '(config object)'

  const names = Object.keys(raw.environments ?? {})
  const requested = options.env ?? (environ['STRATA_ENV'] || undefined)
  if (!hasConfig && options.env) {
    throw new StrataError('E_CONFIG', `--env ${options.env} needs a config file with environments`, {
      hint: 'run `strata init` to write strata.yaml, or pass --config PATH',
    })
  }
  const environment = hasConfig ? pickEnvironment(raw, names, requested, shown) : null
  const envConfig = environment ? raw.environments?.[environment] : undefined

  // --url and STRATA_DATABASE_URL are given where strata runs, so relative paths resolve from there.
  const override = options.url ?? (environ['STRATA_DATABASE_URL'] || undefined)
  const urlText = override ?? (envConfig ? expand(envConfig.url, environ, `environments.${environment}.url`, file) : undefined)
  if (!urlText) {
    throw new StrataError('E_CONFIG', hasConfig ? `environment \`${environment}\` has no database URL` : 'no database given: there is no strata.yaml here and no --url', {
      hint: hasConfig ? `set environments.${environment}.url in ${shown}` : 'pass --url sqlite:app.db (or set STRATA_DATABASE_URL), or run `strata init`',
    })
  }
  const policy = envConfig?.policy ? expandPolicy(envConfig.policy, environ, environment!, file) : {}
  checkWindows(policy, `environments.${environment}.policy.maintenance_window`, shown)
  return {
    file,
    baseDir,
    migrationsDir: options.migrations ? resolve(cwd, options.migrations) : resolve(baseDir, raw.migrations ?? 'migrations'),
    tablePrefix: raw.table_prefix ?? 'strata_',
    environment,
    url: parseDatabaseUrl(urlText, override ? cwd : baseDir),
    policy: resolvePolicy(policy),
    raw,
  }
}

function findConfigFile(explicit: string | undefined, cwd: string): string | null {
  if (explicit) {
    const path = resolve(cwd, explicit)
    if (!existsSync(path)) {
      throw new StrataError('E_CONFIG', `config file ${path} does not exist`, { hint: 'check --config, or run `strata init` to write one', file: path })
    }
    return path
  }
  const path = resolve(cwd, 'strata.yaml')
  return existsSync(path) ? path : null
}

/**
 * Parses and validates a config file; errors name the key, its line and the closest known key.
 * `${VAR}` in any value is expanded from `environ` first (SPEC S16).
 */
export function readConfigFile(file: string, environ: NodeJS.ProcessEnv = process.env): ConfigFile {
  const text = readFileSync(file, 'utf8')
  const doc = parseDocument(text, { prettyErrors: true })
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    throw new StrataError('E_CONFIG', `${file}: invalid YAML: ${first.message.split('\n')[0]}`, {
      file,
      line: first.linePos?.[0]?.line,
      hint: 'fix the YAML syntax at the line shown',
    })
  }
  return validateConfig(expandValues(doc.toJS() ?? {}, environ, file), file)
}

/**
 * `${VAR}` expanded in every string of the config (SPEC S16: a webhook's URL, a sink's path, a
 * check's command), except under `environments`: only the selected environment's values are
 * expanded (when it is picked), so a variable that only production needs is not required to
 * run against development.
 */
function expandValues(value: unknown, environ: NodeJS.ProcessEnv, file: string | null, path: readonly (string | number)[] = []): unknown {
  if (typeof value === 'string') return value.includes('${') ? expand(value, environ, path.join('.'), file) : value
  if (Array.isArray(value)) return value.map((item, index) => expandValues(item, environ, file, [...path, index]))
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, item]) =>
    [key, path.length === 0 && key === 'environments' ? item : expandValues(item, environ, file, [...path, key])]))
}

/** Validates a config value (from a file or the API); `source` names it in errors. */
export function validateConfig(value: unknown, source: string): ConfigFile {
  const parsed = configSchema.safeParse(value)
  if (!parsed.success) throw configError(parsed.error, source, value)
  return parsed.data
}

/**
 * The issue to report: an unknown key before anything else (it is usually the typo behind the
 * others), looking inside union branches, whose own message ("Invalid input") names nothing.
 */
function mostTelling(issues: readonly ZodIssue[]): ZodIssue {
  const flat: ZodIssue[] = []
  const visit = (list: readonly ZodIssue[]): void => {
    for (const issue of list) {
      if (issue.code === 'invalid_union') {
        // The branch with the fewest problems is the one the user meant.
        const branches = [...issue.unionErrors].sort((a, b) => a.issues.length - b.issues.length)
        if (branches[0]) visit(branches[0].issues)
        else flat.push(issue)
      } else flat.push(issue)
    }
  }
  visit(issues)
  return flat.find((i) => i.code === 'unrecognized_keys') ?? flat[0] ?? issues[0]!
}

function configError(error: ZodError, file: string, input: unknown): StrataError {
  const issue = mostTelling(error.issues)
  const where = issue.path.join('.') || '(top level)'
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!
    const suggestion = closest(key, KNOWN_KEYS)
    const full = [...issue.path, key].join('.')
    return new StrataError('E_CONFIG', `${file}: unknown key \`${full}\``, {
      file,
      key: full,
      hint: suggestion === key
        ? `\`${key}\` is a known key, but not at \`${issue.path.join('.') || '(top level)'}\`: remove it or move it where it belongs`
        : suggestion ? `did you mean \`${suggestion}\`?` : 'remove it; the README lists the known keys',
    })
  }
  // Name the value found there too (an unknown alert event or sink type, say), not only the rule.
  const found = issue.path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined), input)
  const got = typeof found === 'string' || typeof found === 'number' || typeof found === 'boolean' ? ` (got \`${String(found)}\`)` : ''
  return new StrataError('E_CONFIG', `${file}: \`${where}\`: ${issue.message}${got}`, { file, key: where, hint: 'fix the value at the key shown' })
}

function pickEnvironment(raw: ConfigFile, names: readonly string[], requested: string | undefined, file: string): string {
  const choice = requested ?? raw.environment ?? (names.includes('development') ? 'development' : names.length === 1 ? names[0] : undefined)
  if (!choice) {
    throw new StrataError('E_CONFIG', names.length === 0 ? `${file} defines no environments` : `no environment selected in ${file} (it defines ${names.join(', ')})`, {
      hint: names.length === 0 ? 'add an `environments:` block with at least one `url`' : 'set `environment:` in the config, STRATA_ENV, or pass --env NAME',
    })
  }
  if (!names.includes(choice)) {
    const suggestion = closest(choice, names)
    throw new StrataError('E_CONFIG', `environment \`${choice}\` is not defined in ${file}`, {
      file,
      hint: suggestion ? `did you mean \`${suggestion}\`? Known: ${names.join(', ')}` : `known environments: ${names.join(', ') || 'none'}`,
    })
  }
  return choice
}

/** Expands `${VAR}` from the environment; a missing variable is an error naming it. */
export function expand(text: string, environ: NodeJS.ProcessEnv, key: string, file: string | null): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const value = environ[name]
    if (value === undefined) {
      throw new StrataError('E_CONFIG', `\`${key}\` uses \${${name}}, which is not set in the environment`, {
        ...(file ? { file } : {}),
        hint: `export ${name}=… before running strata`,
      })
    }
    return value
  })
}

function expandPolicy(policy: Policy, environ: NodeJS.ProcessEnv, environment: string, file: string | null): Policy {
  const window = policy.maintenance_window
  if (window === undefined) return policy
  const key = `environments.${environment}.policy.maintenance_window`
  return {
    ...policy,
    maintenance_window: Array.isArray(window) ? window.map((w) => expand(w, environ, key, file)) : expand(window, environ, key, file),
  }
}

function resolvePolicy(policy: Policy): ResolvedPolicy {
  const window = policy.maintenance_window
  return {
    requireBackup: policy.require_backup ?? false,
    requireChangeRequest: policy.require_change_request ?? false,
    requireRehearsal: policy.require_rehearsal ?? false,
    maintenanceWindow: window === undefined ? [] : Array.isArray(window) ? window : [window],
    lintFailOn: policy.lint_fail_on ?? 'error',
    onFailure: policy.on_failure ?? 'rollback',
    strategy: policy.strategy ?? 'direct',
    confirm: policy.confirm ?? false,
    rehearsalMaxAge: policy.rehearsal_max_age ?? '7d',
  }
}

/** A malformed maintenance window is a config error naming the file and key, found when the config loads. */
function checkWindows(policy: Policy, key: string, file: string): void {
  const window = policy.maintenance_window
  if (window === undefined) return
  try {
    parseWindows(window)
  } catch (error) {
    if (!isStrataError(error)) throw error
    throw new StrataError('E_CONFIG', `${file}: \`${key}\`: ${error.message}`, { file, key, hint: error.hint })
  }
}
