import { z } from 'zod/v3'

/** The config file (SPEC S12), validated strictly: an unknown key is an error naming it. */

const duration = z.string().regex(/^\d+(ms|s|m|h|d|w)$/, 'a duration such as 30m, 12h or 7d')

export const policySchema = z.strictObject({
  require_backup: z.boolean().optional(),
  require_change_request: z.boolean().optional(),
  require_rehearsal: z.boolean().optional(),
  maintenance_window: z.union([z.string(), z.array(z.string())]).optional(),
  lint_fail_on: z.enum(['error', 'warning', 'info', 'never']).optional(),
  on_failure: z.enum(['rollback', 'stop', 'restore']).optional(),
  strategy: z.enum(['rolling', 'blue-green', 'direct']).optional(),
  confirm: z.boolean().optional(),
  rehearsal_max_age: duration.optional(),
})

export const environmentSchema = z.strictObject({
  url: z.string().min(1),
  policy: policySchema.optional(),
})

const expectation = z.union([z.number(), z.string(), z.boolean(), z.null()])

export const userCheck = z.union([
  z.strictObject({ name: z.string(), sql: z.string(), expect: expectation }),
  z.strictObject({ name: z.string(), http: z.string(), status: z.number().int().optional(), body: z.string().optional(), timeout_ms: z.number().int().positive().optional() }),
  z.strictObject({ name: z.string(), command: z.array(z.string()).min(1), timeout_ms: z.number().int().positive().optional() }),
])

const alertEvent = z.enum([
  'migration_failure', 'data_corruption', 'rollback_required',
  'long_running', 'performance_degradation', 'high_resource_usage',
  'migration_started', 'migration_completed', 'backup_completed',
])

const sink = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('console'), levels: z.array(z.enum(['critical', 'warning', 'info'])).optional() }),
  z.strictObject({ type: z.literal('file'), path: z.string(), levels: z.array(z.enum(['critical', 'warning', 'info'])).optional() }),
  z.strictObject({ type: z.literal('webhook'), url: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'), timeout_ms: z.number().int().positive().optional(), retries: z.number().int().min(0).optional(), levels: z.array(z.enum(['critical', 'warning', 'info'])).optional() }),
  z.strictObject({ type: z.literal('command'), command: z.array(z.string()).min(1), levels: z.array(z.enum(['critical', 'warning', 'info'])).optional() }),
])

export const configSchema = z.strictObject({
  migrations: z.string().optional(),
  environment: z.string().optional(),
  table_prefix: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _').optional(),
  environments: z.record(z.string(), environmentSchema).optional(),
  backup: z.strictObject({ dir: z.string().optional(), keep: z.number().int().positive().optional(), files: z.array(z.string()).optional() }).optional(),
  checks: z.strictObject({ preflight: z.array(userCheck).optional(), postflight: z.array(userCheck).optional() }).optional(),
  lint: z.strictObject({ rules: z.record(z.string(), z.enum(['error', 'warning', 'info', 'off'])).optional() }).optional(),
  alerts: z.strictObject({
    critical: z.array(alertEvent).optional(),
    warning: z.array(alertEvent).optional(),
    info: z.array(alertEvent).optional(),
    thresholds: z.strictObject({
      long_running_s: z.number().positive().optional(),
      degradation_ratio: z.number().positive().max(1).optional(),
      cpu_percent: z.number().positive().optional(),
      rss_mb: z.number().positive().optional(),
    }).optional(),
    sinks: z.array(sink).optional(),
  }).optional(),
  records: z.strictObject({ dir: z.string().optional() }).optional(),
  change_requests: z.strictObject({ dir: z.string().optional(), allow_same_approver: z.boolean().optional() }).optional(),
  rehearsal: z.strictObject({
    queries: z.array(z.strictObject({ name: z.string(), sql: z.string() })).optional(),
    regression_factor: z.number().positive().optional(),
  }).optional(),
})

export type ConfigFile = z.infer<typeof configSchema>
export type Policy = z.infer<typeof policySchema>
export type UserCheck = z.infer<typeof userCheck>

/** Every key the config file knows, for "did you mean" hints. */
export const KNOWN_KEYS: readonly string[] = [
  ...Object.keys(configSchema.shape),
  ...Object.keys(environmentSchema.shape),
  ...Object.keys(policySchema.shape),
  'dir', 'keep', 'files', 'preflight', 'postflight', 'rules', 'critical', 'warning', 'info', 'thresholds',
  'sinks', 'long_running_s', 'degradation_ratio', 'cpu_percent', 'rss_mb', 'allow_same_approver', 'queries',
  'regression_factor', 'name', 'sql', 'expect', 'http', 'status', 'body', 'command', 'timeout_ms', 'type',
  'path', 'levels', 'retries',
]

/** A webhook's URL: http or https, and parseable (credentials may sit in it; they are masked). */
function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}
