/**
 * Replication benchmark (`npm run bench:replication`): three nodes in separate
 * processes on 127.0.0.1, full mesh, `sync` durability. Measures
 *  (a) lag from the origin's stamp to the entry being durably entered at each peer,
 *      p50/p99/max, at offered loads of 1,000 and 10,000 changes/s;
 *  (b) the highest offered rate all peers keep up with;
 *  (c) bytes on the wire per replicated change, ids of 10 and 36 characters;
 *  (e) bytes each node receives per change in full meshes of 3, 5 and 9 nodes,
 *      against a single copy (test/bench/mesh-bytes.ts).
 * Catch-up is measured by `npm run bench:catchup` (test/bench/catchup.ts).
 * Ends with the goal table of issue 11 (goals 2 and 3).
 * Prints a table and writes test/bench/results/replication.json.
 * `--quick` shortens every phase (for trying it out; not the recorded numbers).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../helpers/tmp.js'
import { printGoals, printTable, writeResults, type GoalLine } from './measure.js'
import { fullMeshLinks, meshBytes, type MeshBytesRow } from './mesh-bytes.js'
import { NodeProc } from './node-proc.js'

const quick = process.argv.includes('--quick')
/** `--relaxed` runs every node without fsync, to separate replication from disk costs. */
const durability = process.argv.includes('--relaxed') ? 'relaxed' : 'sync'
const LAG_SECONDS = quick ? 3 : 20
const RAMP_SECONDS = quick ? 2 : 5
const RAMP_RATES = [2_000, 4_000, 6_000, 8_000, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000]
const BYTES_CHANGES = quick ? 5_000 : 50_000
/** A rate is kept up with if peers' p99 lag stays under this, in ms... */
const KEEP_UP_P99_MS = 1_000
/** ...and they have everything this long after the load ends, in ms. */
const KEEP_UP_DRAIN_MS = 2_000

const NAMES = ['a', 'b', 'c']
/** Full meshes whose bytes per change are measured (goal 3). */
const MESH_SIZES = [3, 5, 9]

interface LagRow { offered: number, p50_ms: number, p99_ms: number }

/** Issue 11, goals 2 and 3: the worst receiver at each offered rate; each mesh size. */
function goals (lag: LagRow[], mesh: MeshBytesRow[]): GoalLine[] {
  const worst = (rate: number, key: 'p50_ms' | 'p99_ms'): number => Math.max(...lag.filter(r => r.offered === rate).map(r => r[key]))
  const lines: GoalLine[] = [
    { goal: '2. p99 lag at 10,000 changes/s', measured: `${worst(10_000, 'p99_ms')} ms`, target: '< 50 ms', met: worst(10_000, 'p99_ms') < 50 },
    { goal: '2. p50 lag at 10,000 changes/s', measured: `${worst(10_000, 'p50_ms')} ms`, target: '< 10 ms', met: worst(10_000, 'p50_ms') < 10 },
    { goal: '2. p99 lag at 1,000 changes/s', measured: `${worst(1_000, 'p99_ms')} ms`, target: '< 20 ms', met: worst(1_000, 'p99_ms') < 20 }
  ]
  for (const row of mesh.filter(r => r.nodes > 2)) {
    lines.push({ goal: `3. bytes received per change per node, full mesh of ${row.nodes}`, measured: `${row.x_single_copy} × single copy`, target: '≤ 1.2 ×', met: row.x_single_copy <= 1.2 })
  }
  return lines
}

/**
 * Where the slow lag samples (≥ 20 ms) come from: how many had a garbage collection of the
 * receiver, or of the origin, inside their path (from the origin's stamp to the entry on the
 * receiver), and the two nodes' collections over the phase.
 */
function slowSamples (slow: Array<[number, number]>, receiverGcs: Array<[number, number]>, originGcs: Array<[number, number]>): object {
  const overlaps = (gcs: Array<[number, number]>, [entered, lag]: [number, number]): boolean =>
    gcs.some(([start, ms]) => start <= entered && start + ms >= entered - lag)
  const long = (gcs: Array<[number, number]>): number => gcs.filter(([, ms]) => ms >= 10).length
  const max = (gcs: Array<[number, number]>): number => Math.round(Math.max(0, ...gcs.map(([, ms]) => ms)))
  return {
    slow_samples: slow.length,
    with_receiver_gc: slow.filter(s => overlaps(receiverGcs, s)).length,
    with_origin_gc: slow.filter(s => overlaps(originGcs, s)).length,
    with_either: slow.filter(s => overlaps(receiverGcs, s) || overlaps(originGcs, s)).length,
    receiver_gcs_over_10ms: long(receiverGcs),
    receiver_gc_max_ms: max(receiverGcs),
    origin_gcs_over_10ms: long(originGcs),
    origin_gc_max_ms: max(originGcs)
  }
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'marksync-bench-repl-'))
  const ports = new Map<string, number>()
  for (const n of NAMES) ports.set(n, await freePort())
  const procs = new Map<string, NodeProc>()
  const open = async (n: string): Promise<NodeProc> => {
    const p = new NodeProc(n)
    procs.set(n, p)
    await p.call('open', {
      node: n,
      dir: join(root, n),
      durability,
      port: ports.get(n),
      peers: NAMES.filter(x => x !== n).map(x => ({ id: x, url: `ws://127.0.0.1:${ports.get(x) as number}` })),
      options: { links: fullMeshLinks(NAMES) }
    })
    return p
  }
  const results: Record<string, unknown> = { quick, startedAt: new Date().toISOString(), nodes: 3, durability, cpus: cpus().length, loadAverage: loadavg() }
  try {
    for (const n of NAMES) await open(n)
    const [a, b, c] = NAMES.map(n => procs.get(n) as NodeProc)
    for (const p of [a, b, c]) await p.call('waitConnected')
    const receivers = [b, c]
    let prefix = 0
    /** Waits until every node's peers acknowledged its whole feed: no backlog carries into the next phase. */
    const drain = async (nodes: NodeProc[]): Promise<void> => {
      for (const p of nodes) if (!(await p.call<boolean>('drained', { timeoutMs: 600_000 }))) throw new Error(`${p.name} did not drain`)
    }

    // (a) lag at fixed offered loads, changes made on a
    const lagRows = []
    const slowRows = []
    for (const rate of [1_000, 10_000]) {
      for (const r of [a, ...receivers]) await r.call('record', { on: true })
      const before = await Promise.all(receivers.map(async r => (await r.call('stats')).entered as number))
      const load = await a.call('load', { rate, seconds: LAG_SECONDS, idLen: 10, prefix: `L${prefix++}-` })
      await Promise.all(receivers.map(async (r, i) => await r.call('waitEntered', { count: before[i] + load.acked, timeoutMs: 600_000 })))
      await drain([a, b, c])
      const origin = await a.call('stats')
      for (const r of receivers) {
        const st = await r.call('stats')
        lagRows.push({ offered: rate, achieved: load.achievedRate, peer: r.name, samples: st.lag.count, p50_ms: st.lag.p50, p99_ms: st.lag.p99, max_ms: st.lag.max })
        slowRows.push({ offered: rate, peer: r.name, ...slowSamples(st.slow, st.gcs, origin.gcs) })
      }
      for (const r of [a, ...receivers]) await r.call('record', { on: false })
    }
    results.lag = lagRows
    results.slowSamples = slowRows
    printTable(lagRows)
    printTable(slowRows)

    // (b) highest offered rate the peers keep up with
    const rampRows = []
    let sustained = 0
    for (const rate of RAMP_RATES) {
      for (const r of receivers) await r.call('record', { on: true })
      const before = await Promise.all(receivers.map(async r => (await r.call('stats')).entered as number))
      const load = await a.call('load', { rate, seconds: RAMP_SECONDS, idLen: 10, prefix: `R${prefix++}-` })
      const drained = await Promise.all(receivers.map(async (r, i) => await r.call('waitEntered', { count: before[i] + load.acked, timeoutMs: KEEP_UP_DRAIN_MS })))
      const stats = await Promise.all(receivers.map(async r => await r.call('stats')))
      for (const r of receivers) await r.call('record', { on: false })
      const p99 = Math.max(...stats.map(s => s.lag.p99 as number))
      const ok = load.achievedRate >= 0.95 * rate && p99 < KEEP_UP_P99_MS && drained.every(d => d.reached as boolean)
      rampRows.push({ offered: rate, achieved: load.achievedRate, p99_ms: p99, drained: drained.every(d => d.reached as boolean), kept_up: ok })
      await drain([a, b, c]) // no backlog into the next step
      if (!ok) break
      sustained = rate
    }
    results.ramp = rampRows
    results.maxSustainedRate = sustained
    printTable(rampRows as unknown as Array<Record<string, string | number>>)

    // (c) bytes on the wire per change
    const bytesRows = []
    for (const idLen of [10, 36]) {
      await drain([a, b, c])
      const sent0 = await Promise.all([a, b, c].map(async p => await p.call('stats')))
      const before = await Promise.all(receivers.map(async r => (await r.call('stats')).entered as number))
      const load = await a.call('load', { rate: 10_000, seconds: BYTES_CHANGES / 10_000, idLen, prefix: `B${prefix++}-` })
      await Promise.all(receivers.map(async (r, i) => await r.call('waitEntered', { count: before[i] + load.acked, timeoutMs: 600_000 })))
      await drain([a, b, c])
      const sent1 = await Promise.all([a, b, c].map(async p => await p.call('stats')))
      const sum = (stats: any[], node: number, peers?: string[]): number =>
        (stats[node].peers as Array<{ id: string, bytesSent: number }>).filter(p => peers === undefined || peers.includes(p.id)).reduce((n, p) => n + p.bytesSent, 0)
      const originBytes = sum(sent1, 0) - sum(sent0, 0)
      const meshBytes = [0, 1, 2].reduce((n, i) => n + sum(sent1, i) - sum(sent0, i), 0)
      bytesRows.push({
        id_chars: idLen,
        changes: load.acked,
        origin_to_peer_bytes_per_change: +(originBytes / (load.acked * 2)).toFixed(1),
        mesh_bytes_per_change_per_receiver: +(meshBytes / (load.acked * 2)).toFixed(1)
      })
    }
    results.bytes = bytesRows
    printTable(bytesRows)

    for (const p of procs.values()) {
      await p.call('close').catch(() => {})
      await p.kill()
    }
    procs.clear()

    // (e) bytes per change per node in full meshes of 3, 5 and 9 (goal 3)
    const meshRows = await meshBytes(root, MESH_SIZES)
    results.meshBytes = meshRows
    printTable(meshRows as unknown as Array<Record<string, number>>)
    results.goals = goals(lagRows, meshRows)
    printGoals(results.goals as GoalLine[])
    console.log('Goals 1 (catch-up vs dsync), 4 (memory) and 5 (CPU per change): npm run bench:catchup')
  } finally {
    for (const p of procs.values()) {
      await p.call('close').catch(() => {})
      await p.kill()
    }
    await rm(root, { recursive: true, force: true })
  }
  await writeResults('replication', results)
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
