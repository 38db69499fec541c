/**
 * Problem 6 of issue 9: a disk that fills up. The node's data directory is on a small
 * tmpfs this test mounts (root only, as in CI); a filler file takes the room, writes
 * go on until the disk is full. Then: the answer is 507 DISK_FULL (not 500), health and
 * status say the store is failing and why, metrics count it, reads go on; once the
 * filler is removed the node reopens its store by itself: writes and a peer's changes
 * enter again, and it stops cleanly.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, startDaemon, writeMesh, type DaemonProcess } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { SLOW_START } from './helpers.js'

const TMPFS_SIZE = '48m'
/** Room left beside the filler: less than LevelDB's 4 MiB log, so the log hits the wall. */
const LEFT_FREE_BYTES = 2 * 1024 * 1024
const CHANGES_PER_REQUEST = 1_000
const MAX_REQUESTS = 400

const isRoot = process.getuid?.() === 0 && process.platform === 'linux'

function batch (round: number): { changes: Array<{ user: string, message: string, status: string }> } {
  const changes = []
  for (let i = 0; i < CHANGES_PER_REQUEST; i++) {
    changes.push({ user: `user-${i % 50}`, message: `<${round}-${i}-${'x'.repeat(60)}@disk.test>`, status: 'unread' })
  }
  return { changes }
}

t.test('a full disk: 507 DISK_FULL, health and status say so, and the node recovers by itself', { skip: isRoot ? false : 'needs root to mount a tmpfs (CI runs as root)' }, async tt => {
  const dir = await tempDir(tt)
  const mount = join(dir, 'small-disk')
  await mkdir(mount)
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mount])
  const started: DaemonProcess[] = []
  tt.teardown(async () => {
    for (const d of started) if (d.running) { try { process.kill(d.pid, 'SIGKILL') } catch {} await d.exited }
    try { execFileSync('umount', [mount]) } catch { execFileSync('umount', ['-l', mount]) }
  })
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'] })
  const nodes = mesh.json.nodes as Array<Record<string, unknown>>
  nodes[0].dataDir = join(mount, 'a')
  await mesh.rewrite(mesh.json)
  const a = await startDaemon(tt, mesh, 'a', SLOW_START)
  const b = await startDaemon(tt, mesh, 'b', SLOW_START)
  started.push(a, b)
  const apiA = mesh.nodes.a.api
  const apiB = mesh.nodes.b.api

  const filler = join(mount, 'filler')
  const fs = await statfs(mount)
  await writeFile(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - LEFT_FREE_BYTES)))

  let refused: { status: number, body: any } | undefined
  let acknowledged = 0
  for (let round = 0; round < MAX_REQUESTS && refused === undefined; round++) {
    const r = await apiCall(apiA, 'POST', '/v1/changes', { body: batch(round), timeoutMs: 30_000 })
    if (r.status === 200) acknowledged++
    else refused = r
  }
  tt.ok(refused !== undefined, `the disk filled up after ${acknowledged} acknowledged requests`)
  tt.equal(refused?.status, 507, 'a write that cannot be made is 507')
  tt.equal(refused?.body.error.code, 'DISK_FULL')

  const health = await apiCall(apiA, 'GET', '/v1/health')
  tt.equal(health.status, 503, 'never healthy while it cannot write')
  tt.match(health.body, { ok: false, node: 'a', store: { state: 'failing', code: 'DISK_FULL', reason: /space/i } })
  const status = await apiCall(apiA, 'GET', '/v1/status')
  tt.match(status.body.store, { state: 'failing', code: 'DISK_FULL', since: Number })
  const metrics = await apiCall(apiA, 'GET', '/metrics')
  tt.match(metrics.text, /marksync_store_faults_total\{code="DISK_FULL"\} 1/)
  tt.match(metrics.text, /marksync_store_failing 1/)
  tt.ok(a.logs.some(l => l.event === 'store-fault' && l.code === 'DISK_FULL'), 'the fault is logged')
  const again = await apiCall(apiA, 'POST', '/v1/changes', { body: { user: 'carol', message: 'm1', status: 'read' } })
  tt.equal(again.status, 507, 'writes are refused at once while failing')
  const read = await apiCall(apiA, 'GET', `/v1/users/user-1/messages/${encodeURIComponent(batch(0).changes[1].message)}`)
  tt.equal(read.status, 200, 'reads go on')

  await rm(filler)
  await waitFor(async () => (await apiCall(apiA, 'GET', '/v1/health')).status === 200, { timeoutMs: 20_000, what: 'the store to reopen by itself' })
  tt.ok(a.logs.some(l => l.event === 'store-recovered'), 'the recovery is logged')
  const after = await apiCall(apiA, 'POST', '/v1/changes', { body: { user: 'carol', message: 'm1', status: 'read' } })
  tt.equal(after.status, 200, 'writes work again without a restart')
  const fromPeer = await apiCall(apiB, 'POST', '/v1/changes', { body: { user: 'dave', message: 'from-b', status: 'unread' } })
  tt.equal(fromPeer.status, 200)
  await waitFor(async () => (await apiCall(apiA, 'GET', '/v1/users/dave/unread/count')).body.count === 1, { timeoutMs: 20_000, what: 'a change from the peer to enter' })
  const count = await apiCall(apiA, 'GET', '/v1/users/user-1/unread/count')
  tt.ok(count.body.count >= acknowledged * CHANGES_PER_REQUEST / 50, 'every acknowledged change is still there')
  tt.same(await a.stop(), { code: 0, signal: null }, 'the node stops cleanly')
})
