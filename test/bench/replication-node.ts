/**
 * One node of the replication benchmark, in its own process: a Store and a Replicator,
 * driven by the parent (test/bench/replication.ts) over IPC. Every request is
 * `{ id, cmd, ...args }`; every answer `{ id, ok, result | error }`.
 */
import { readFileSync } from 'node:fs'
import { PerformanceObserver } from 'node:perf_hooks'
import type { Store } from '../../src/store/index.js'
import type { Replicator } from '../../src/replication/index.js'
import { openNode } from '../helpers/node.js'
import type { PeerConfig } from '../../src/replication/api.js'
import type { LocalChange, LogEntry } from '../../src/types.js'
import { ChangeMix } from './mix.js'
import { memoryMap } from './memory-map.js'
import { applyHeapGrowingPercent } from '../../src/daemon/heap-growth.js'
import { DEFAULT_HEAP_GROWING_PERCENT } from '../../src/limits.js'

interface Request { id: number, cmd: string, [key: string]: unknown }

/** How often the load generator wakes up, in ms. */
const TICK_MS = 5
/** Most marks in flight at once from the load generator. */
const MAX_OUTSTANDING = 64
/** Changes per `mark` call of the `mix` command. */
const MIX_CALL = 5_000
/** RSS sampling interval while watched, in ms (at 50 ms the sampling took ~5 % of a receiver's main thread). */
const RSS_SAMPLE_MS = 200

/** A lag sample at or above this, in ms, is kept with its time, to be matched with GC pauses. */
const SLOW_LAG_MS = 20

// As the daemon does with the setting's default (docs/operations.md "Memory"), so the RSS reported
// is an admin's node's; BENCH_HEAP_GROWING_PERCENT measures another value (0: V8's own choice).
const heapGrowingPercent = Number(process.env.BENCH_HEAP_GROWING_PERCENT ?? DEFAULT_HEAP_GROWING_PERCENT)
applyHeapGrowingPercent(heapGrowingPercent)
/** Which malloc this process runs with: the unit preloads jemalloc where the host has it. */
const allocator = readFileSync('/proc/self/maps', 'utf8').includes('libjemalloc') ? 'jemalloc' : 'glibc malloc'

let store: Store | undefined
let repl: Replicator | undefined
let recordLag = false
let lags: number[] = []
/** [epoch ms entered, lag ms] of the samples at or above SLOW_LAG_MS while recording. */
let slow: Array<[number, number]> = []
/** [epoch ms start, ms] of each garbage collection while recording. */
let gcs: Array<[number, number]> = []
new PerformanceObserver(list => {
  if (!recordLag) return
  for (const e of list.getEntries()) gcs.push([performance.timeOrigin + e.startTime, e.duration])
}).observe({ entryTypes: ['gc'] })
let enteredFromPeers = 0
let rssPeak = 0
let rssTimer: NodeJS.Timeout | undefined

function onEntered (entries: LogEntry[]): void {
  const now = Date.now()
  for (const e of entries) {
    if (e.from === undefined) continue
    enteredFromPeers++
    if (!recordLag) continue
    const lag = now - e.originTime
    lags.push(lag)
    if (lag >= SLOW_LAG_MS) slow.push([now, lag])
  }
}

function pad (s: string, len: number): string {
  return s.length >= len ? s.slice(s.length - len) : s.padStart(len, '0')
}

function change (prefix: string, i: number, idLen: number): LocalChange {
  return { user: pad(`u${i % 997}`, idLen), message: pad(`${prefix}${i}`, idLen), status: i % 5 === 0 ? 'read' : 'unread' }
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

/** Offers `rate` changes/s for `seconds`, as marks of rate*TICK_MS/1000 changes each tick. */
async function load (rate: number, seconds: number, idLen: number, prefix: string): Promise<object> {
  const s = store as Store
  const total = Math.round(rate * seconds)
  const start = performance.now()
  let sent = 0
  let outstanding = 0
  let acked = 0
  let dropped = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / 1000 * rate))
    while (sent < due) {
      const n = Math.min(due - sent, 5_000)
      if (outstanding >= MAX_OUTSTANDING) {
        dropped += due - sent // the node cannot keep up: offered but not taken
        sent = due
        break
      }
      const batch: LocalChange[] = []
      for (let i = 0; i < n; i++) batch.push(change(prefix, sent + i, idLen))
      sent += n
      outstanding++
      s.mark(batch).then(() => { acked += n }, () => {}).finally(() => { outstanding-- })
    }
    await new Promise(resolve => setTimeout(resolve, TICK_MS))
  }
  while (outstanding > 0) await new Promise(resolve => setTimeout(resolve, 1))
  const ms = performance.now() - start
  return { offered: total, acked, dropped, ms, achievedRate: Math.round(acked / ms * 1000) }
}

async function bulk (count: number, idLen: number, prefix: string): Promise<object> {
  const s = store as Store
  const start = performance.now()
  const inFlight: Array<Promise<unknown>> = []
  for (let done = 0; done < count;) {
    const n = Math.min(5_000, count - done)
    const batch: LocalChange[] = []
    for (let i = 0; i < n; i++) batch.push(change(prefix, done + i, idLen))
    done += n
    inFlight.push(s.mark(batch))
    if (inFlight.length >= 4) await inFlight.shift()
  }
  await Promise.all(inFlight)
  return { count, ms: performance.now() - start }
}

/** The mix being made, so that a call with `resume` goes on where the last one stopped. */
let mixing: { users: number, seed: number, changes: ChangeMix } | undefined

/**
 * Makes `count` changes of the realistic mix (test/bench/mix.ts), `MIX_CALL` a call, a few
 * calls in flight; stops early once `deadline` (epoch ms) has passed. Answers how many it made.
 */
async function mix (count: number, users: number, seed: number, deadline = Infinity, resume = false): Promise<object> {
  const s = store as Store
  if (!resume || mixing?.users !== users || mixing.seed !== seed) mixing = { users, seed, changes: new ChangeMix(users, seed) }
  const changes = mixing.changes
  const start = performance.now()
  const inFlight: Array<Promise<unknown>> = []
  let done = 0
  while (done < count && Date.now() < deadline) {
    const n = Math.min(MIX_CALL, count - done)
    done += n
    inFlight.push(s.mark(changes.take(n)))
    if (inFlight.length >= 4) await inFlight.shift()
  }
  await Promise.all(inFlight)
  return { count: done, ms: performance.now() - start }
}

async function handle (req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'open': {
      const node = await openNode({
        id: req.node as string,
        dir: req.dir as string,
        store: { durability: (req.durability as 'sync' | 'relaxed') ?? 'sync', ...(req.store as object | undefined) },
        beforeStart: ({ store }) => { store.on('entered', onEntered) },
        replication: {
          cluster: 'bench',
          secret: Buffer.from('bench-secret'),
          listen: { host: '127.0.0.1', port: req.port as number },
          peers: req.peers as PeerConfig[],
          ...(req.options as object | undefined)
        }
      })
      store = node.store
      repl = node.repl
      return { lastSeq: store.lastSeq, memory: { allocator, heapGrowingPercent } }
    }
    case 'waitConnected': {
      const deadline = Date.now() + 30_000
      while (!(repl as Replicator).status().every(p => p.connected)) {
        if (Date.now() > deadline) throw new Error('peers did not connect')
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      return true
    }
    case 'drained': {
      // Every peer has acknowledged everything in this node's feed.
      const deadline = Date.now() + (req.timeoutMs as number)
      while (!(repl as Replicator).status().every(p => p.behind === 0)) {
        if (Date.now() > deadline) return false
        await new Promise(resolve => setTimeout(resolve, 10))
      }
      return true
    }
    case 'record':
      recordLag = req.on as boolean
      if (recordLag) {
        lags = []
        slow = []
        gcs = []
      }
      return true
    case 'load': return await load(req.rate as number, req.seconds as number, req.idLen as number, req.prefix as string)
    case 'bulk': return await bulk(req.count as number, req.idLen as number, req.prefix as string)
    case 'mix': return await mix(req.count as number, req.users as number, req.seed as number, req.deadline as number | undefined, req.resume === true)
    case 'memoryMap': return memoryMap()
    case 'cpu': {
      const { user, system } = process.cpuUsage()
      const m = process.memoryUsage()
      const mib = (n: number): number => Math.round(n / 1048576)
      // With --expose-gc (BENCH_NODE_ARGS): the live heap too, after a full collection.
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const live = gc === undefined ? undefined : mib(process.memoryUsage().heapUsed)
      return { cpuMs: (user + system) / 1000, heapMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external), rssMiB: mib(m.rss), liveHeapMiB: live }
    }
    case 'unreadCounts': {
      // A digest of the state to compare nodes: the unread counts of the first `users` users.
      const s = store as Store
      const counts: number[] = []
      for (let u = 0; u < (req.users as number); u++) counts.push(await s.unreadCount(`user${u}@example.org`))
      return counts
    }
    case 'waitEntered': {
      const deadline = Date.now() + (req.timeoutMs as number)
      while (enteredFromPeers < (req.count as number)) {
        if (Date.now() > deadline) return { reached: false, entered: enteredFromPeers }
        await new Promise(resolve => setTimeout(resolve, 5))
      }
      return { reached: true, entered: enteredFromPeers }
    }
    case 'stats': {
      const sorted = Float64Array.from(lags).sort()
      const arr = Array.from(sorted)
      return {
        entered: enteredFromPeers,
        lastSeq: store?.lastSeq,
        lag: { count: arr.length, p50: percentile(arr, 0.5), p99: percentile(arr, 0.99), max: arr.length > 0 ? arr[arr.length - 1] : 0 },
        peers: repl?.status(),
        rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
        slow,
        gcs
      }
    }
    case 'watchRss':
      clearInterval(rssTimer)
      if (req.on as boolean) {
        rssPeak = process.memoryUsage.rss()
        rssTimer = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss()) }, RSS_SAMPLE_MS)
      }
      return { peakMiB: Math.round(Math.max(rssPeak, process.memoryUsage.rss()) / 1048576) }
    case 'close':
      clearInterval(rssTimer)
      await repl?.stop()
      await store?.close()
      return true
    default:
      throw new Error(`unknown command ${req.cmd}`)
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    result => process.send?.({ id: req.id, ok: true, result }),
    (err: Error) => process.send?.({ id: req.id, ok: false, error: err.message })
  )
})
process.on('disconnect', () => process.exit(0))
