import { Worker } from 'node:worker_threads'

/**
 * The worker's body, as CommonJS text: reading and hashing in another thread lets a backup be
 * hashed while the main thread runs SQLite's integrity check on it (SPEC S15: backup + verify
 * within 1.3× of `cp` plus `integrity_check`).
 */
const WORKER = `
const { createHash } = require('node:crypto')
const { openSync, readSync, closeSync, fsyncSync } = require('node:fs')
const { parentPort, workerData } = require('node:worker_threads')
const hash = createHash('sha256')
const buffer = Buffer.allocUnsafe(4 << 20)
const fd = openSync(workerData.path, 'r')
let size = 0
try {
  for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
    hash.update(buffer.subarray(0, n))
    size += n
  }
  if (workerData.sync) fsyncSync(fd)
} finally {
  closeSync(fd)
}
parentPort.postMessage({ sha256: hash.digest('hex'), size })
`

/**
 * sha256 (lowercase hex) and size of a file, computed in a worker thread; with `sync`, the file
 * is also flushed to disk there, off the main thread.
 */
export function hashFile(path: string, options: { sync?: boolean } = {}): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    // execArgv: [] keeps a parent's --input-type=module from turning this CommonJS text into ESM.
    const worker = new Worker(WORKER, { eval: true, workerData: { path, sync: options.sync ?? false }, execArgv: [] })
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the hashing thread exited with code ${code}`))
    })
  })
}
