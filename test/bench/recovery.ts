/**
 * bench:recovery: how long a wiped node takes to get back N winners (default 1,000,000)
 * from one peer, with real `marksync` processes on loopback and default settings (sync).
 *
 * Setup: node b's store is filled in-process with N changes made on b, and told that node a
 * (an older incarnation of it) acknowledged all of them, exactly what b holds after a's data
 * directory is lost. Then b and a fresh a start; the run times a's "ready" until a has entered
 * N entries (its `seq` in /v1/status). Baseline, same run: a node joining for the first time
 * (no record of it at b, cursor 0) gets the same N from b's feed instead of a state transfer.
 *
 *   npm run bench:recovery [-- --winners 1000000 --no-baseline]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { apiCall, startDaemon, writeMesh, type DaemonProcess, type TestMesh } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'
import { printTable } from './measure.js'

const CHANGES_PER_CALL = 5_000
const USERS = 10_000

function argOf (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

/** N changes made on b, spread over USERS users; and a's record as if a had acknowledged all. */
async function fillPeer (dataDir: string, winners: number, wiped: boolean): Promise<void> {
  const store = new Store({ location: dataDir, nodeId: 'b', durability: 'relaxed' })
  await store.open()
  for (let from = 0; from < winners; from += CHANGES_PER_CALL) {
    const changes = []
    for (let i = from; i < Math.min(winners, from + CHANGES_PER_CALL); i++) {
      changes.push({ user: `user-${i % USERS}`, message: `<${i}@bench.example>`, status: i % 3 === 0 ? 'read' as const : 'unread' as const })
    }
    await store.mark(changes)
  }
  if (wiped) {
    await store.setCursor('a', store.lastSeq)
    await store.setPeerRecord('a', { incarnation: 'f'.repeat(32), acked: 0, resync: false })
  }
  await store.close()
}

async function seqOf (api: string): Promise<number> {
  return (await apiCall(api, 'GET', '/v1/status', { timeoutMs: 30_000 })).body.seq
}

/** Seconds from a's ready until it entered `winners` entries. */
async function recover (winners: number, wiped: boolean): Promise<{ seconds: number, stateTransfers: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'marksync-bench-recovery-'))
  const started: DaemonProcess[] = []
  try {
    const mesh: TestMesh = await writeMesh(dir, { nodes: ['a', 'b'], settings: { heartbeat: '1s' } })
    await fillPeer(mesh.nodes.b.dataDir, winners, wiped)
    started.push(await startDaemon(undefined, mesh, 'b', { readyTimeoutMs: 120_000 }))
    const t0 = performance.now()
    started.push(await startDaemon(undefined, mesh, 'a', { readyTimeoutMs: 120_000 }))
    await waitFor(async () => await seqOf(mesh.nodes.a.api) >= winners, { timeoutMs: 3_600_000, intervalMs: 250, what: `${winners} winners on a` })
    const seconds = (performance.now() - t0) / 1000
    const peers = (await apiCall(mesh.nodes.b.api, 'GET', '/v1/status')).body.peers
    return { seconds, stateTransfers: peers[0].stateTransfers }
  } finally {
    for (const d of started) await d.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const winners = argOf('winners', 1_000_000)
  const load = loadavg()[0]
  const wiped = await recover(winners, true)
  const rows = [{ case: 'wiped node (state transfer)', winners, seconds: wiped.seconds.toFixed(1), perSecond: Math.round(winners / wiped.seconds), stateTransfers: wiped.stateTransfers, ratio: '1.00' }]
  if (!process.argv.includes('--no-baseline')) {
    const fresh = await recover(winners, false)
    rows.push({ case: 'baseline: first join (feed)', winners, seconds: fresh.seconds.toFixed(1), perSecond: Math.round(winners / fresh.seconds), stateTransfers: fresh.stateTransfers, ratio: (fresh.seconds / wiped.seconds).toFixed(2) })
  }
  printTable(rows)
  console.log(`load average at start: ${load.toFixed(2)} (${process.platform}, node ${process.version})`)
  await writeFile('bench-recovery.json', JSON.stringify({ winners, loadAverage: load, rows }, null, 2))
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
