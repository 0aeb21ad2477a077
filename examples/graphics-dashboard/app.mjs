// The live graphics dashboard the SOP migrates: a small HTTP server over its SQLite database.
//
//   DASHBOARD_DB=examples/graphics-dashboard/live.db DASHBOARD_PORT=8000 node examples/graphics-dashboard/app.mjs
//
// GET /api/graphics  every graphic, as JSON
// GET /health        200 {"ok": true, "graphics": N} when the database answers
// While `strata maintenance on` (or `strata deploy --strategy rolling`) holds the flag, both answer
// 503 with the operator's message; requests with ?maintenance=bypass are served normally (the
// postflight probes in live.yaml use it to check the migrated database before the flag comes off). The database file is the one
// `activeDatabase()` names: after `strata deploy --strategy blue-green` the migrated copy, after
// `strata deploy --rollback` the one before it.
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { activeDatabase, closeMaintenanceStatus, maintenanceStatus } from 'strata-migrate'

const file = process.env.DASHBOARD_DB ?? fileURLToPath(new URL('./dashboard.db', import.meta.url))
const port = Number(process.env.DASHBOARD_PORT ?? 8000)

/** One short read-only connection per request, on the database the pointer names now. */
async function read(fn) {
  const { location } = await activeDatabase(`sqlite:${file}`)
  const db = new Database(location, { readonly: true, fileMustExist: true, timeout: 5000 })
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(`${JSON.stringify(body)}\n`)
}

const routes = {
  '/health': async () => [200, { ok: true, graphics: await read((db) => db.prepare('SELECT count(*) AS n FROM graphics').get().n) }],
  '/api/graphics': async () => [200, await read((db) => db.prepare('SELECT * FROM graphics ORDER BY id').all())],
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const route = req.method === 'GET' ? routes[url.pathname] : undefined
  if (!route) return send(res, 404, { error: 'not found' })
  try {
    if (url.searchParams.get('maintenance') !== 'bypass') {
      const maintenance = await maintenanceStatus(`sqlite:${file}`)
      if (maintenance.enabled) {
        return send(res, 503, { error: 'maintenance', message: maintenance.message, until: maintenance.until },
          maintenance.until ? { 'retry-after': String(Math.max(1, Math.ceil((Date.parse(maintenance.until) - Date.now()) / 1000))) } : {})
      }
    }
    const [status, body] = await route()
    send(res, status, body)
  } catch (error) {
    send(res, 500, { error: error instanceof Error ? error.message : String(error) })
  }
})

server.listen(port, '127.0.0.1', () => console.log(`dashboard on http://127.0.0.1:${port} over ${file}`))
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => closeMaintenanceStatus().finally(() => process.exit(0))))
}
