import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { check, type CheckResult, type NodeDump } from './checker.js'
import { ChaosCluster, type Topology } from './cluster.js'
import { fetchDump, fetchWinners, winnersDigest } from './dump.js'
import { ClockMonitor, type NodeStatus } from './monitor.js'
import { apiGet } from './api-client.js'
import { countByKind, describeFault, generateSchedule, type Fault, type FaultKind, type ScheduleOptions } from './schedule.js'
import { Workload } from './workload.js'
import { formatSummary } from './summary.js'

/** The fault counts are the schedule's (schedule.ts); the rest is about the cluster and the run. */
export interface ChaosOptions extends Pick<ScheduleOptions, 'seed' | 'faults' | 'minKills' | 'minPartitions' | 'skews' | 'longDowns' | 'wipes' | 'restores'> {
  nodes?: number
  topology?: Topology
  /** Length of the fault phase, in ms. */
  faultPhaseMs: number
  maxDown?: number
  /** Log retention of every node, in ms: short, so that a long outage needs a state transfer. */
  retentionMs?: number
  purgeIntervalMs?: number
  heartbeatMs?: number
  maxClockSkewMs?: number
  /** Deadline for convergence after everything is healed, in ms. */
  convergeTimeoutMs?: number
  concurrency?: number
  maxRate?: number
  /** Run a snapshot of the build, safe from rebuilds during the run (see cluster.ts). */
  snapshot?: boolean
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void
  /** Stops the run early (SIGINT); cleanup still happens. */
  signal?: AbortSignal
}

export interface ChaosResult {
  seed: number
  passed: boolean
  /** Why the run failed, one line each; empty when it passed. */
  failures: string[]
  /** Directory of the mesh file, data dirs and logs: kept when the run failed, removed otherwise. */
  dir: string
  kept: boolean
  nodes: number
  schedule: Fault[]
  faultsRun: Record<FaultKind, number>
  acked: number
  uncertain: number
  refused: number
  httpErrors: Record<string, number>
  badAcks: string[]
  check: CheckResult | undefined
  /** ms from "everything healed" to equal winners on every node; null if never. */
  convergeMs: number | null
  monitor: ClockMonitor | undefined
  /** Link proxy connections: forwarded, broken by cuts, refused while cut. */
  proxies: { accepted: number, broken: number, refused: number }
  durationMs: number
  summary: string[]
}

const DEFAULTS = {
  nodes: 5,
  topology: 'full' as Topology,
  maxDown: 2,
  retentionMs: 15_000,
  purgeIntervalMs: 2_000,
  heartbeatMs: 250,
  maxClockSkewMs: 10_000,
  convergeTimeoutMs: 60_000,
  concurrency: 4,
  maxRate: 60
}
/** Extra down time of a `longdown` beyond retention + purge interval, in ms. */
const LONGDOWN_MARGIN_MS = 6_000
/** Longest error text kept per failed fault action, in characters. */
const MAX_ERROR_CHARS = 600
/** Poll interval while waiting for convergence, in ms. */
const CONVERGE_POLL_MS = 250
/** Deadline for every node to show all its peers connected before the faults start, in ms. */
const MESH_UP_TIMEOUT_MS = 30_000

async function sleepUntil (time: number, signal?: AbortSignal): Promise<void> {
  const ms = time - Date.now()
  if (ms <= 0 || signal?.aborted === true) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * One chaos run: start the mesh, run the workload under the seeded fault schedule, heal
 * everything, wait for quiescence, check, and clean up (keeping the directory on failure).
 */
export async function runChaos (init: ChaosOptions): Promise<ChaosResult> {
  const o = { ...DEFAULTS, ...init }
  const log = init.log ?? (() => {})
  const started = Date.now()
  const dir = await mkdtemp(join(tmpdir(), `marksync-chaos-${o.seed}-`))
  const failures: string[] = []
  const result: ChaosResult = {
    seed: o.seed, passed: false, failures, dir, kept: false, nodes: o.nodes, schedule: [],
    faultsRun: countByKind([]), acked: 0, uncertain: 0, refused: 0, httpErrors: {}, badAcks: [],
    check: undefined, convergeMs: null, monitor: undefined, proxies: { accepted: 0, broken: 0, refused: 0 }, durationMs: 0, summary: []
  }
  let cluster: ChaosCluster | undefined
  let workload: Workload | undefined
  let monitor: ClockMonitor | undefined
  // Every exit path kills the children by pid, even one that never reaches `finally`.
  const onExit = (): void => { cluster?.killAllNow() }
  process.on('exit', onExit)
  try {
    cluster = await ChaosCluster.create({
      dir,
      nodes: o.nodes,
      topology: o.topology,
      snapshot: o.snapshot,
      settings: {
        durability: 'sync',
        retention: `${o.retentionMs}ms`,
        purgeInterval: `${o.purgeIntervalMs}ms`,
        heartbeat: `${o.heartbeatMs}ms`,
        maxClockSkew: `${o.maxClockSkewMs}ms`
      }
    })
    const schedule = generateSchedule({
      seed: o.seed,
      nodes: cluster.ids,
      links: cluster.links,
      durationMs: o.faultPhaseMs,
      faults: o.faults,
      minKills: o.minKills,
      minPartitions: o.minPartitions,
      skews: o.skews,
      longDowns: o.longDowns,
      wipes: o.wipes,
      restores: o.restores,
      longDownMs: o.retentionMs + o.purgeIntervalMs + LONGDOWN_MARGIN_MS,
      maxDown: o.maxDown
    })
    result.schedule = schedule
    log(`chaos: seed ${o.seed}, ${o.nodes} nodes (${o.topology}), ${schedule.length} faults over ${o.faultPhaseMs / 1000}s, dir ${dir}`)
    for (const fault of schedule) log(`  ${describeFault(fault)}`)

    await cluster.startAll()
    await waitMeshUp(cluster, o.signal)
    log(`chaos: mesh up after ${Date.now() - started} ms`)

    monitor = new ClockMonitor(cluster, o.maxClockSkewMs)
    result.monitor = monitor
    monitor.start()
    workload = new Workload({
      targets: cluster.ids.map(id => ({ id, api: cluster?.node(id).api as string })),
      seed: o.seed,
      concurrency: o.concurrency,
      maxRate: o.maxRate
    })
    workload.start()

    // A fault that could not be applied or undone (a restart that failed) fails the run, but
    // the run still heals, converges and checks: the data says more than the error alone.
    failures.push(...await runSchedule(cluster, monitor, schedule, result, o.signal, log))

    await workload.stop()
    const healAt = await healEverything(cluster, monitor, log)
    if (o.signal?.aborted === true) throw new Error('aborted')
    result.convergeMs = await waitConverged(cluster, healAt, o.convergeTimeoutMs, o.signal)
    if (result.convergeMs === null) failures.push(`no convergence within ${o.convergeTimeoutMs} ms after heal`)
    log(`chaos: ${result.convergeMs === null ? 'NOT converged' : `converged ${result.convergeMs} ms after heal`}`)
    await monitor.stop()

    const dumps = await finalDumps(cluster, workload)
    const restores = [...cluster.nodes.values()].flatMap(n => n.restoredAt.map(at => ({ node: n.id, at })))
    result.check = check({ dumps, acked: workload.acked, uncertain: workload.uncertain, restores })
    judge(result, workload, monitor, o.maxClockSkewMs)
  } catch (err) {
    failures.push(`run error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  } finally {
    await workload?.stop().catch(() => {})
    await monitor?.stop().catch(() => {})
    if (workload !== undefined) {
      result.acked = workload.acked.length
      result.uncertain = workload.uncertain.length
      result.refused = workload.refused
      result.httpErrors = Object.fromEntries(workload.errors)
      result.badAcks = workload.badAcks.slice(0, 20)
    }
    if (cluster !== undefined) result.proxies = cluster.proxyStats()
    await cluster?.stopAll().catch(() => {})
    cluster?.killAllNow()
    process.off('exit', onExit)
    result.passed = failures.length === 0
    result.durationMs = Date.now() - started
    if (result.passed) {
      await rm(dir, { recursive: true, force: true })
    } else {
      result.kept = true
    }
    result.summary = formatSummary(result)
  }
  return result
}

/** Every node up and connected to each of its peers, so the faults start from a healthy mesh. */
async function waitMeshUp (cluster: ChaosCluster, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + MESH_UP_TIMEOUT_MS
  for (;;) {
    const statuses = await Promise.all(cluster.ids.map(async id => await apiGet<NodeStatus>(cluster.node(id).api, '/v1/status').catch(() => undefined)))
    if (statuses.every(s => s !== undefined && s.peers.length > 0 && s.peers.every(p => p.connected))) return
    if (Date.now() > deadline || signal?.aborted === true) {
      throw new Error(`mesh not connected within ${MESH_UP_TIMEOUT_MS} ms: ${JSON.stringify(statuses.map(s => s?.peers.map(p => [p.id, p.connected])))}`)
    }
    await sleepUntil(Date.now() + CONVERGE_POLL_MS, signal)
  }
}

async function runSchedule (
  cluster: ChaosCluster, monitor: ClockMonitor, schedule: Fault[], result: ChaosResult, signal: AbortSignal | undefined, log: (line: string) => void
): Promise<string[]> {
  const events = schedule.flatMap(f => [{ t: f.at, f, start: true }, { t: f.at + f.durationMs, f, start: false }])
  // Ends before starts at the same instant, so a node comes back before the next fault on it.
  events.sort((x, y) => x.t - y.t || Number(x.start) - Number(y.start) || x.f.index - y.f.index)
  const phaseStart = Date.now()
  const pending: Array<Promise<void>> = []
  const errors: string[] = []
  // A fault on a node waits for the node's previous fault to end (a restart on a loaded
  // machine can take many seconds), and ends no earlier than its duration after it really
  // began: otherwise a late kill is undone at once, a long outage lasts no time, and a skew
  // is over before its node is up for its peers to see it.
  const began = new Map<number, Promise<number>>()
  const lastOnNode = new Map<string, Promise<unknown>>()
  for (const event of events) {
    await sleepUntil(phaseStart + event.t, signal)
    if (signal?.aborted === true) break
    const { f } = event
    const previous = f.node === undefined ? undefined : lastOnNode.get(f.node)
    const run = async (): Promise<void> => {
      await previous?.catch(() => {})
      if (event.start) return await startFault(cluster, monitor, f)
      await sleepUntil(await (began.get(f.index) ?? Promise.resolve(0)) + f.durationMs, signal)
      await endFault(cluster, monitor, f)
    }
    const ran = run()
    if (event.start) began.set(f.index, ran.then(() => Date.now(), () => Date.now()))
    if (f.node !== undefined) lastOnNode.set(f.node, ran)
    const op = ran.then(
      () => { if (event.start) result.faultsRun[f.kind]++ },
      (err: unknown) => {
        // The node's own log holds the rest; keep the summary readable.
        const why = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_CHARS)
        errors.push(`fault ${describeFault(f)} ${event.start ? 'start' : 'end'}: ${why}`)
      }
    )
    pending.push(op)
    if (event.start) log(`  ${((Date.now() - phaseStart) / 1000).toFixed(1)}s start ${describeFault(f)}`)
  }
  await Promise.all(pending)
  return errors
}

async function startFault (cluster: ChaosCluster, monitor: ClockMonitor, f: Fault): Promise<void> {
  switch (f.kind) {
    case 'kill':
    case 'longdown':
      return await cluster.node(f.node as string).kill()
    case 'pause':
      return await cluster.node(f.node as string).pause()
    case 'wipe':
      return await cluster.node(f.node as string).wipe()
    case 'restore':
      return await cluster.node(f.node as string).backup()
    case 'cut':
      return cluster.cut(f.link as readonly [string, string])
    case 'partition':
      for (const link of cluster.crossLinks(f.groups as [string[], string[]])) cluster.cut(link)
      return
    case 'delay':
      return cluster.setDelay(f.link as readonly [string, string], f.delayMs ?? 0)
    case 'skew':
      await cluster.node(f.node as string).setClockOffset(f.offsetMs ?? 0)
      monitor.skewStarted(f.node as string, f.offsetMs ?? 0)
  }
}

async function endFault (cluster: ChaosCluster, monitor: ClockMonitor, f: Fault): Promise<void> {
  switch (f.kind) {
    case 'kill':
    case 'longdown':
    case 'wipe':
      return await cluster.node(f.node as string).start()
    case 'restore':
      return await cluster.node(f.node as string).restore()
    case 'pause':
      return await cluster.node(f.node as string).resume()
    case 'cut':
      return cluster.heal(f.link as readonly [string, string])
    case 'partition':
      for (const link of cluster.crossLinks(f.groups as [string[], string[]])) cluster.heal(link)
      return
    case 'delay':
      return cluster.setDelay(f.link as readonly [string, string], 0)
    case 'skew':
      await cluster.node(f.node as string).setClockOffset(0)
      monitor.skewEnded(f.node as string)
  }
}

/** Links healed, delays and clock offsets removed, every node running. Returns the time. */
async function healEverything (cluster: ChaosCluster, monitor: ClockMonitor, log: (line: string) => void): Promise<number> {
  cluster.healAll()
  for (const node of cluster.nodes.values()) {
    await node.setClockOffset(0)
    monitor.skewEnded(node.id)
    if (node.state === 'paused') await node.resume()
  }
  await Promise.all([...cluster.nodes.values()].map(async node => { if (node.state === 'down') await node.start() }))
  log('chaos: everything healed')
  return Date.now()
}

/**
 * Waits until every node holds the same winners and no peer has entries left to send.
 * Returns ms from `healAt` to the first moment the winners were equal, or null on timeout.
 */
async function waitConverged (cluster: ChaosCluster, healAt: number, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
  const deadline = healAt + timeoutMs
  let equalSince: number | null = null
  while (Date.now() < deadline && signal?.aborted !== true) {
    try {
      const digests = await Promise.all(cluster.ids.map(async id => winnersDigest(await fetchWinners(cluster.node(id).api))))
      if (digests.every(d => d === digests[0])) {
        equalSince ??= Date.now()
        const statuses = await Promise.all(cluster.ids.map(async id => await apiGet<NodeStatus>(cluster.node(id).api, '/v1/status')))
        if (statuses.every(s => s.peers.every(p => p.connected && p.behind === 0))) return equalSince - healAt
      } else {
        equalSince = null
      }
    } catch {
      equalSince = null
    }
    await sleepUntil(Date.now() + CONVERGE_POLL_MS, signal)
  }
  return null
}

async function finalDumps (cluster: ChaosCluster, workload: Workload): Promise<NodeDump[]> {
  const users = new Set<string>(workload.acked.map(a => a.entry.user))
  for (const u of workload.uncertain) users.add(u.user)
  const winners = await Promise.all(cluster.ids.map(async id => await fetchWinners(cluster.node(id).api)))
  for (const list of winners) for (const w of list) users.add(w.user)
  return await Promise.all(cluster.ids.map(async id => await fetchDump(id, cluster.node(id).api, users)))
}

function judge (result: ChaosResult, workload: Workload, monitor: ClockMonitor, maxClockSkewMs: number): void {
  const c = result.check as CheckResult
  const f = result.failures
  if (workload.acked.length === 0) f.push('no change was acknowledged: the workload did not run')
  if (c.lost > 0) f.push(`${c.lost} (user, message) pairs lost an acknowledged change`)
  if (c.phantom > 0) f.push(`${c.phantom} (user, message) pairs won by a change nobody sent`)
  if (c.divergent > 0) f.push(`${c.divergent} pairs or unread tables differ between nodes`)
  if (c.unreadMismatch > 0) f.push(`${c.unreadMismatch} unread tables disagree with their node's winners`)
  if (workload.badAcks.length > 0) f.push(`${workload.badAcks.length} acknowledgements did not match their request`)
  for (const s of monitor.skews) {
    if (s.reportedBy.length === 0) f.push(`node ${s.node} skewed by ${s.offsetMs} ms was never reported skewed by a peer`)
  }
  // The long outage must have exercised what it is for: catching up by state transfer.
  for (const fault of result.schedule) {
    if (fault.kind === 'longdown' && monitor.stateTransfers(fault.node) === 0) {
      f.push(`node ${fault.node ?? '?'} was down past retention but no peer was seen sending it a state transfer`)
    }
  }
  if (monitor.violations.length > 0) f.push(`HLC ran ahead of real time by more than ${maxClockSkewMs} ms: ${monitor.violations.join('; ')}`)
}
