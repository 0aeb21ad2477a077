import { Counter, Gauge, Registry } from 'prom-client'
import type { MetricsSample } from '../events/events.js'

// Loaded at the first scrape (see metrics-server.ts): prom-client and what it pulls in (https
// and zlib among them) take some 50 ms to load, which a run nobody scrapes would pay for nothing.

/** The figures a scrape shows: a sample's, kept current between samples; null where unknown (the series is then absent). */
export type PromFigures = Omit<MetricsSample, 'runId' | 'at'>

/**
 * The Prometheus view of the figures, in a registry of its own (never prom-client's global one).
 * Every metric reads `figures()` when scraped, so the run's events cost nothing here between
 * scrapes, and a scrape between samples still sees the rows rise.
 */
export class PromMetrics {
  readonly registry = new Registry()

  constructor(runId: string, figures: () => PromFigures) {
    const labels = { run_id: runId }
    const registers = [this.registry]
    const labelNames = ['run_id'] as const
    const show = (metric: Gauge<'run_id'> | Counter<'run_id'>, value: number | null): void => {
      metric.reset()
      // A counter is only ever shown its running total, which never falls during a run.
      if (value === null) return
      if (metric instanceof Gauge) metric.set(labels, value)
      else metric.inc(labels, value)
    }
    const gauge = (name: string, help: string, read: (f: PromFigures) => number | null): void => {
      new Gauge({ name, help, labelNames, registers, collect() { show(this, read(figures())) } })
    }
    const counter = (name: string, help: string, read: (f: PromFigures) => number | null): void => {
      new Counter({ name, help, labelNames, registers, collect() { show(this, read(figures())) } })
    }
    gauge('strata_run_elapsed_seconds', 'Seconds since the run started.', (f) => f.elapsedMs / 1000)
    counter('strata_rows_processed_total', 'Rows processed by backfills so far in the run.', (f) => f.rows)
    gauge('strata_progress_ratio', 'Share of the run done, 0 to 1 (migrations done and the running backfill\'s share).', (f) => f.progress)
    counter('strata_errors_total', 'Migrations failed and checks failed so far in the run.', (f) => f.errors)
    gauge('strata_process_cpu_percent', 'CPU use of the strata process over the latest sample period, in percent of one core.', (f) => f.cpuPercent)
    gauge('strata_process_resident_memory_bytes', 'Resident memory of the strata process in bytes.', (f) => f.rssBytes)
    counter('strata_disk_read_bytes_total', 'Bytes the strata process read from storage since the run started (Linux only).', (f) => f.readBytes)
    counter('strata_disk_written_bytes_total', 'Bytes the strata process wrote to storage since the run started (Linux only).', (f) => f.writeBytes)
    gauge('strata_db_connections', 'Sessions open on the database server (absent when unknown).', (f) => f.connections)
    gauge('strata_db_lock_waits', 'Sessions waiting on a lock on the database server (absent when unknown).', (f) => f.lockWaits)
  }
}
