/**
 * strata-migrate/testing (SPEC S6): the checks of `strata test` as a library, for a project's
 * own vitest or node:test suite.
 *
 * ```ts
 * import { testMigrations } from 'strata-migrate/testing'
 * test('migrations go up, down and up again', async () => {
 *   const report = await testMigrations({ migrations: 'migrations' })
 *   expect(report.failures).toEqual([])
 * })
 * ```
 */
import { Strata, type StrataOptions } from './api/strata.js'
import type { TestReport } from './testing/test-migrations.js'

export type { RevisionResult, TestFailure, TestReport } from './testing/test-migrations.js'

export interface TestMigrationsOptions extends StrataOptions {}

/**
 * Runs every migration up, down and up again on a scratch database and reports what differs
 * (never throws for a failing check: see `report.ok` and `report.failures`). Without `config`
 * or `url`, the scratch database is a SQLite temp file; with them, it is a new database on the
 * same server as the configured one, dropped afterwards.
 */
export async function testMigrations(options: TestMigrationsOptions = {}): Promise<TestReport> {
  const strata = await Strata.open({ ...options, ...(options.config || options.url ? {} : { url: 'sqlite:strata-test-placeholder.db' }) })
  return strata.test()
}
