import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ROOT, copyExample, strata, strataAsync } from '../support/cli.js'
import { rows } from '../support/sqlite.js'

/**
 * The flagship example end to end (SPEC S10, the SOP's deployment): the dashboard application
 * serves requests in a loop while `strata deploy --strategy rolling` migrates its database.
 */

interface Answer { readonly at: number; readonly status: number; readonly body: unknown }

/** A free port from the OS. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

describe('the dashboard during a rolling deploy', () => {
  let example: { dir: string; cleanup(): void }
  let app: ChildProcess | null = null
  let port = 0
  let env: NodeJS.ProcessEnv = {}

  beforeEach(async () => {
    example = copyExample('graphics-dashboard')
    port = await freePort()
    env = { DASHBOARD_PORT: String(port) }
  })
  afterEach(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((resolve) => app!.once('exit', resolve))
      app.kill('SIGTERM')
      await exited
    }
    app = null
    example.cleanup()
  })

  const config = (): string[] => ['--config', join(example.dir, 'live.yaml'), '--env', 'production']
  const startApp = async (): Promise<void> => {
    // The application lives in the repository (it imports strata-migrate by name); its database is the copy's.
    app = spawn(process.execPath, [join(ROOT, 'examples', 'graphics-dashboard', 'app.mjs')], {
      env: { ...process.env, DASHBOARD_DB: join(example.dir, 'live.db'), DASHBOARD_PORT: String(port) }, stdio: 'ignore',
    })
    for (let i = 0; i < 100; i++) {
      // Any answer will do: before the first migration the database has no graphics table yet.
      if ((await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0)) !== 0) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('the dashboard did not start')
  }
  /** Requests /api/graphics every 15 ms until stopped; a connection error is recorded as status 0. */
  const traffic = (): { stop(): Promise<Answer[]> } => {
    const answers: Answer[] = []
    let running = true
    const loop = (async () => {
      while (running) {
        const at = Date.now()
        try {
          const response = await fetch(`http://127.0.0.1:${port}/api/graphics`)
          answers.push({ at, status: response.status, body: await response.json() })
        } catch (error) {
          answers.push({ at, status: 0, body: String(error) })
        }
        await new Promise((resolve) => setTimeout(resolve, 15))
      }
    })()
    return { stop: async () => { running = false; await loop; return answers } }
  }

  it('serves every request outside maintenance mode, and only the maintenance 503 inside it; the new column appears after', async () => {
    // The postflight probes the application, so it runs from the start.
    await startApp()
    expect((await strataAsync(['up', '000_initial_schema', ...config()], example.dir, env).done).code).toBe(0)
    const load = traffic()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const deployed = await strataAsync(['deploy', '--message', 'Adding event names', ...config()], example.dir, env).done
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const answers = await load.stop()
    expect(deployed.code, deployed.stderr).toBe(0)
    expect(deployed.stderr).toContain('maintenance mode on')

    // Nothing but 200 and the maintenance 503; the 503s in one block, with the operator's message.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([])
    const first503 = answers.findIndex((a) => a.status === 503)
    const last503 = answers.findLastIndex((a) => a.status === 503)
    expect(first503).toBeGreaterThan(0)
    expect(answers.slice(first503, last503 + 1).every((a) => a.status === 503)).toBe(true)
    expect(answers[first503]!.body).toMatchObject({ error: 'maintenance', message: 'Adding event names' })
    // Before: the old shape; after: the migrated one, served again.
    const before = answers[0]!.body as Array<Record<string, unknown>>
    const after = answers.at(-1)!.body as Array<Record<string, unknown>>
    expect(answers.at(-1)!.status).toBe(200)
    expect(before).toHaveLength(5)
    expect(before[0]).not.toHaveProperty('event_name')
    expect(after).toHaveLength(5)
    expect(after[0]).toHaveProperty('event_name')
    // The postflight probed the application through the bypass, and the record says so.
    const status = JSON.parse(strata(['maintenance', 'status', '--json', ...config()], example.dir, env).stdout) as { enabled: boolean }
    expect(status.enabled).toBe(false)
    const [run] = rows<{ report: string }>(join(example.dir, 'live.db'), "SELECT report FROM strata_runs WHERE command = 'deploy (rolling)' ORDER BY started_at DESC LIMIT 1")
    const record = (JSON.parse(run!.report) as { record: { command: string; validationResults: { application: string }; backupId: string | null } }).record
    expect(record.command).toBe('deploy (rolling)')
    expect(record.validationResults.application).toBe('passed')
    expect(record.backupId).not.toBeNull()
  }, 30_000)

  it('blue-green: not one request fails while the copy is migrated and the pointer switched; --rollback returns the old data', async () => {
    await startApp()
    expect((await strataAsync(['up', '000_initial_schema', ...config()], example.dir, env).done).code).toBe(0)
    const load = traffic()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const deployed = await strataAsync(['deploy', '--strategy', 'blue-green', '--json', ...config()], example.dir, env).done
    expect(deployed.code, deployed.stderr).toBe(0)
    const { pointer } = JSON.parse(deployed.stdout) as { pointer: { active: string; previous: string } }
    expect(pointer.previous).toBe(join(example.dir, 'live.db'))
    expect(pointer.active).toMatch(/live\.[a-z0-9]+\.db$/)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const answers = await load.stop()
    expect(answers.filter((a) => a.status !== 200)).toEqual([])
    expect((answers[0]!.body as Array<Record<string, unknown>>)[0]).not.toHaveProperty('event_name')
    expect((answers.at(-1)!.body as Array<Record<string, unknown>>)[0]).toHaveProperty('event_name')
    // strata follows the pointer too; the old database is kept as it was.
    const status = JSON.parse(strata(['status', '--json', ...config()], example.dir, env).stdout) as { current: string[]; database: { url: string } }
    expect(status.current).toEqual(['001_add_event_name_to_graphics'])
    expect(status.database.url).toContain(pointer.active)
    expect(rows(join(example.dir, 'live.db'), "SELECT name FROM pragma_table_info('graphics') WHERE name = 'event_name'")).toEqual([])

    const back = strata(['deploy', '--rollback', '--json', ...config()], example.dir, env)
    expect(back.code, back.stderr).toBe(0)
    expect(JSON.parse(back.stdout)).toMatchObject({ active: pointer.previous, previous: pointer.active })
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const old = await fetch(`http://127.0.0.1:${port}/api/graphics`).then((r) => r.json()) as Array<Record<string, unknown>>
    expect(old).toHaveLength(5)
    expect(old[0]).not.toHaveProperty('event_name')
    expect((JSON.parse(strata(['status', '--json', ...config()], example.dir, env).stdout) as { current: string[] }).current).toEqual(['000_initial_schema'])
  }, 30_000)

  it('a failed deploy rolls back, turns maintenance off again, and the dashboard serves the old data', async () => {
    await startApp()
    expect((await strataAsync(['up', ...config()], example.dir, env).done).code).toBe(0)
    const write = (await import('node:fs')).writeFileSync
    write(join(example.dir, 'migrations', '002_broken.sql'), '-- strata:up\nALTER TABLE graphics ADD COLUMN broken text;\nINSERT INTO missing_table VALUES (1);\n-- strata:down\nALTER TABLE graphics DROP COLUMN broken;\n')
    const load = traffic()
    const deployed = await strataAsync(['deploy', ...config()], example.dir, env).done
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const answers = await load.stop()
    expect(deployed.code).toBe(1)
    expect(deployed.stderr).toContain('maintenance mode off after the failed deploy')
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([])
    expect(answers.at(-1)!.status).toBe(200)
    const after = answers.at(-1)!.body as Array<Record<string, unknown>>
    expect(after).toHaveLength(5)
    expect(after[0]).not.toHaveProperty('broken')
  }, 30_000)
})
