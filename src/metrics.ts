import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { PeerStatus } from './contracts.js'
import type { LogEntry } from './types.js'

/**
 * Prometheus metrics of one node, on a Registry of its own (never prom-client's global
 * one, so several nodes can live in one process, as in tests). Event-driven counters are
 * fed by the daemon from store and replicator events; per-peer figures are read from
 * `replicator.status()` at scrape time, so they are never stale. docs/operations.md
 * "Metrics" explains each one.
 */
export interface MetricsSources {
  /** Per-peer replication status (empty without a replicator). */
  peers: () => PeerStatus[]
  /** The store's sequence numbers. */
  seq: () => { lastSeq: number, oldestSeq: number }
  /** The correction the replicator applies to this node's clock, in ms. */
  clockCorrectionMs?: () => number
  /** How long the oldest entry a peer lacks has waited, in ms (api/status.ts peerLagMs). */
  peerLagMs?: (peer: PeerStatus) => Promise<number>
  /** 1 while the store cannot write (docs/storage.md "Store faults"). */
  storeFailing?: () => boolean
}

type Direction = 'sent' | 'received'

export class Metrics {
  readonly registry = new Registry()
  readonly #entered: Counter<'source'>
  readonly #discarded: Counter<'reason'>
  readonly #lag: Histogram
  readonly #purgeRuns: Counter
  readonly #purged: Counter
  readonly #http: Counter<'route' | 'status'>
  readonly #clockJumps: Counter
  readonly #peerEvents: Counter<'event'>
  readonly #storeFaults: Counter<'code'>
  readonly #aeRounds: Counter<'outcome'>
  readonly #aeUsers: Counter
  readonly #aeEntries: Counter<'direction'>
  /** Last cumulative per-peer figures seen, so counters grow by the difference. */
  readonly #seen = new Map<string, { batchesSent: number, batchesReceived: number, bytesSent: number, bytesReceived: number, stateTransfers: number }>()

  // eslint-disable-next-line max-lines-per-function -- a declarative table: one metric definition per statement
  constructor (sources: MetricsSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'marksync_process_' })
    this.#entered = new Counter({ name: 'marksync_changes_entered_total', help: 'Changes entered into the log, by source (local: made on this node; remote: received from a peer)', labelNames: ['source'], registers })
    this.#discarded = new Counter({ name: 'marksync_changes_discarded_total', help: 'Received changes discarded by precedence, by reason (stale: the winner is newer; duplicate: already have it)', labelNames: ['reason'], registers })
    this.#lag = new Histogram({ name: 'marksync_replication_lag_seconds', help: 'Time from a change at its origin to its entry here (local clock minus origin clock), per received entry batch', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600], registers })
    this.#purgeRuns = new Counter({ name: 'marksync_purge_runs_total', help: 'Purge runs, scheduled and on demand', registers })
    this.#purged = new Counter({ name: 'marksync_purged_entries_total', help: 'Log entries removed by purges', registers })
    this.#http = new Counter({ name: 'marksync_http_requests_total', help: 'HTTP API requests, by route pattern and response status', labelNames: ['route', 'status'], registers })
    this.#clockJumps = new Counter({ name: 'marksync_clock_jumps_total', help: 'Times this node\'s wall clock was seen jumping', registers })
    this.#peerEvents = new Counter({ name: 'marksync_peer_events_total', help: 'Peer session events: connected, disconnected, rejected, skewed', labelNames: ['event'], registers })
    this.#storeFaults = new Counter({ name: 'marksync_store_faults_total', help: 'Times the store started failing to write, by code (DISK_FULL, STORE_UNAVAILABLE)', labelNames: ['code'], registers })
    new Gauge({ name: 'marksync_store_failing', help: 'Whether the store cannot write right now (1) or can (0)', registers, collect () { this.set(sources.storeFailing?.() === true ? 1 : 0) } })
    this.#aeRounds = new Counter({ name: 'marksync_anti_entropy_rounds_total', help: 'Anti-entropy rounds this node ran, by outcome (same: roots equal; differed: users differed and were repaired; failed)', labelNames: ['outcome'], registers })
    this.#aeUsers = new Counter({ name: 'marksync_anti_entropy_divergent_users_total', help: 'Users whose winners differed from a peer\'s in this node\'s anti-entropy rounds', registers })
    this.#aeEntries = new Counter({ name: 'marksync_anti_entropy_repaired_entries_total', help: 'Winners entered by this node\'s anti-entropy rounds, by direction (pulled: here; pushed: at the peer)', labelNames: ['direction'], registers })
    const seen = this.#seen
    const bytes = new Counter<'direction'>({ name: 'marksync_replication_bytes_total', help: 'Replication bytes, by direction', labelNames: ['direction'], registers: [] })
    const transfers = new Counter({ name: 'marksync_state_transfers_total', help: 'State transfers (catch-up beyond the purge horizon), both directions', registers: [] })
    // The first counter's collect feeds all three cumulative counters from status()
    // differences; they are registered after it, so one scrape sees fresh values.
    new Counter<'direction'>({
      name: 'marksync_batches_total',
      help: 'Replication batches, by direction',
      labelNames: ['direction'],
      registers,
      collect () {
        for (const p of sources.peers()) {
          const last = seen.get(p.id) ?? { batchesSent: 0, batchesReceived: 0, bytesSent: 0, bytesReceived: 0, stateTransfers: 0 }
          // A figure lower than last time means the replicator restarted: count from zero again.
          const delta = (now: number, before: number): number => now >= before ? now - before : now
          const add = (counter: Counter<'direction'>, direction: Direction, n: number): void => { if (n > 0) counter.inc({ direction }, n) }
          add(this, 'sent', delta(p.batchesSent, last.batchesSent))
          add(this, 'received', delta(p.batchesReceived, last.batchesReceived))
          add(bytes, 'sent', delta(p.bytesSent, last.bytesSent))
          add(bytes, 'received', delta(p.bytesReceived, last.bytesReceived))
          const t = delta(p.stateTransfers, last.stateTransfers)
          if (t > 0) transfers.inc(t)
          seen.set(p.id, { batchesSent: p.batchesSent, batchesReceived: p.batchesReceived, bytesSent: p.bytesSent, bytesReceived: p.bytesReceived, stateTransfers: p.stateTransfers })
        }
      }
    })
    this.registry.registerMetric(bytes)
    this.registry.registerMetric(transfers)
    new Gauge({ name: 'marksync_peers_connected', help: 'Peers with an open session', registers, collect () { this.set(sources.peers().filter(p => p.connected).length) } })
    new Gauge({ name: 'marksync_peers_skewed', help: 'Peers whose clock offset is beyond maxClockSkew (their batches are refused until it is sane)', registers, collect () { this.set(sources.peers().filter(p => p.skewed).length) } })
    new Gauge<'peer'>({
      name: 'marksync_peer_connected',
      help: 'Whether the session to this peer is open (1) or not (0)',
      labelNames: ['peer'],
      registers,
      collect () {
        this.reset()
        for (const p of sources.peers()) this.set({ peer: p.id }, p.connected ? 1 : 0)
      }
    })
    new Gauge<'peer'>({
      name: 'marksync_peer_behind_entries',
      help: 'Local log entries this peer has not acknowledged yet (replication lag in entries)',
      labelNames: ['peer'],
      registers,
      collect () {
        this.reset()
        for (const p of sources.peers()) this.set({ peer: p.id }, p.behind)
      }
    })
    new Gauge<'peer'>({
      name: 'marksync_peer_lag_seconds',
      help: 'How long the oldest local entry this peer has not acknowledged has waited, in seconds (0: it has everything; replication lag in time)',
      labelNames: ['peer'],
      registers,
      async collect () {
        this.reset()
        const lagMs = sources.peerLagMs
        if (lagMs === undefined) return
        for (const p of sources.peers()) this.set({ peer: p.id }, await lagMs(p) / 1000)
      }
    })
    new Gauge<'peer'>({
      name: 'marksync_peer_clock_offset_ms',
      help: 'Estimated clock of the peer minus this node\'s clock, in ms (absent until measured)',
      labelNames: ['peer'],
      registers,
      collect () {
        this.reset()
        for (const p of sources.peers()) if (p.clockOffsetMs !== null) this.set({ peer: p.id }, p.clockOffsetMs)
      }
    })
    new Gauge({ name: 'marksync_clock_correction_ms', help: 'Correction added to this node\'s wall clock when its peers agree it is off, in ms (0 normally)', registers, collect () { this.set(sources.clockCorrectionMs?.() ?? 0) } })
    new Gauge({ name: 'marksync_log_last_seq', help: 'Highest sequence number in this node\'s log', registers, collect () { this.set(sources.seq().lastSeq) } })
    new Gauge({ name: 'marksync_log_oldest_seq', help: 'Lowest sequence number still in the log (the purge horizon)', registers, collect () { this.set(sources.seq().oldestSeq) } })
  }

  /** The store's `'entered'` event. */
  entered (entries: LogEntry[]): void {
    let remote = 0
    for (const e of entries) if (e.from !== undefined) remote++
    if (entries.length - remote > 0) this.#entered.inc({ source: 'local' }, entries.length - remote)
    if (remote > 0) this.#entered.inc({ source: 'remote' }, remote)
  }

  /** The replicator's `'batch-applied'` event. */
  batchApplied (event: { stale?: number, duplicate?: number, lagMs?: number }): void {
    if ((event.stale ?? 0) > 0) this.#discarded.inc({ reason: 'stale' }, event.stale)
    if ((event.duplicate ?? 0) > 0) this.#discarded.inc({ reason: 'duplicate' }, event.duplicate)
    if (typeof event.lagMs === 'number' && Number.isFinite(event.lagMs)) this.#lag.observe(Math.max(0, event.lagMs) / 1000)
  }

  peerEvent (event: 'connected' | 'disconnected' | 'rejected' | 'skewed'): void {
    this.#peerEvents.inc({ event })
  }

  purged (removed: number): void {
    this.#purgeRuns.inc()
    if (removed > 0) this.#purged.inc(removed)
  }

  /** The store's `'store-fault'` event. */
  storeFault (code: string): void {
    this.#storeFaults.inc({ code })
  }

  /** One anti-entropy round this node ran; undefined: it failed. */
  antiEntropyRound (round: { users: number, pulled: number, pushed: number } | undefined): void {
    if (round === undefined) {
      this.#aeRounds.inc({ outcome: 'failed' })
      return
    }
    this.#aeRounds.inc({ outcome: round.users === 0 ? 'same' : 'differed' })
    this.#aeUsers.inc(round.users)
    this.#aeEntries.inc({ direction: 'pulled' }, round.pulled)
    this.#aeEntries.inc({ direction: 'pushed' }, round.pushed)
  }

  clockJump (): void {
    this.#clockJumps.inc()
  }

  httpRequest (route: string, status: number): void {
    this.#http.inc({ route, status: String(status) })
  }

  async text (): Promise<{ contentType: string, body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
