import type { Connection } from '../dialects/dialect.js'
import type { AlertRouter, DeliveryReport } from '../monitor/alerts.js'
import type { MetricsSummary, ServerStats } from '../monitor/metrics.js'
import type { Project } from './session.js'

/** What watching a run found (SPEC S8): its figures, where they were served, how its alerts went. */
export interface MonitoringReport {
  readonly metrics: MetricsSummary
  readonly metricsUrl: string | null
  readonly alerts: DeliveryReport | null
}

export interface Monitoring {
  /** Stops sampling and serving, waits for the alerts still being delivered (within their budget). */
  stop(): Promise<MonitoringReport>
}

/**
 * Starts watching a run from the event stream (SPEC S8): resource samples about once a second
 * (served in Prometheus format with `metricsPort`), and the config's alert rules routed to their
 * sinks. Server-side figures come from a connection of their own, opened at the first sample,
 * so a short run never opens it.
 */
export async function startMonitoring(project: Project, runId: string, metricsPort: number | undefined): Promise<Monitoring> {
  const { events, config, dialect } = project
  const [{ startMetrics }, router, stats] = await Promise.all([
    import('../monitor/metrics.js'),
    startAlerts(project),
    dialect.name === 'sqlite' ? null : import('../monitor/server-stats.js'),
  ])
  let statsConn: Promise<Connection> | null = null
  let statsQuery: Promise<() => Promise<ServerStats>> | null = null
  const server = stats && dialect.name !== 'sqlite'
    ? async () => {
      statsConn ??= dialect.connect(config.url, { create: false })
      statsQuery ??= statsConn.then((conn) => stats.serverStatsQuery(dialect.name as 'postgres' | 'mysql', conn))
      return (await statsQuery)()
    }
    : undefined
  let metrics
  try {
    metrics = await startMetrics(events, { runId, ...(server ? { server } : {}), ...(metricsPort !== undefined ? { port: metricsPort } : {}) })
  } catch (error) {
    router?.detach()
    throw error
  }
  if (metrics.url) events.emit('log', { level: 'info', message: `metrics: ${metrics.url}` })
  return {
    async stop() {
      const summary = await metrics.stop()
      router?.detach()
      const delivery = router ? await router.settle() : null
      if (statsConn) await (await statsConn.catch(() => null))?.close().catch(() => {})
      return { metrics: summary, metricsUrl: metrics.url, alerts: delivery }
    },
  }
}

/**
 * The config's alert rules routed to their sinks, for the life of one command (a run, or a
 * `backup create` outside any run); null when `alerts:` is not configured.
 */
export async function startAlerts(project: Project): Promise<AlertRouter | null> {
  const { events, config } = project
  const rules = config.raw.alerts
  if (!rules) return null
  const { attachAlerts } = await import('../monitor/alerts.js')
  return attachAlerts(events, rules, { environment: config.environment, baseDir: config.baseDir, print: (line) => events.emit('log', { level: 'warn', message: line }) })
}
