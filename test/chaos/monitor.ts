import type { PeerStatus } from '../../src/replication/api.js'
import { apiGet } from './api-client.js'
import type { ChaosCluster } from './cluster.js'

/** What the harness reads of `GET /v1/status`. */
export interface NodeStatus {
  node: string
  seq: number
  oldestSeq: number
  hlcPhysicalMs: number
  wallTime: number
  clockCorrectionMs?: number
  peers: PeerStatus[]
}

/** Poll interval of the monitor, in ms. */
export const MONITOR_INTERVAL_MS = 250
/** Deadline of one status request of the monitor, in ms. */
export const MONITOR_TIMEOUT_MS = 1_000
/**
 * After a skew ends, the skewed node's own HLC is held to the same limit as everyone
 * else's once this grace has passed, in ms (its next status read must show the fix).
 */
export const SKEW_END_GRACE_MS = 2_000

export interface SkewRecord {
  node: string
  offsetMs: number
  from: number
  to?: number
  /** Peers that reported the node skewed while it was. */
  reportedBy: string[]
  /** ms from the start of the skew to the first report. */
  detectedAfterMs?: number
  /** The skewed node's own greatest HLC lead over real time during the window, in ms. */
  selfLeadMs: number
  /** The greatest self-correction (status.clockCorrectionMs) the skewed node applied, in ms. */
  correctionMs: number
}

/**
 * Watches every running node's status during a run: who reported the skewed node skewed,
 * how far any node's HLC ran ahead of real time, and how many state transfers were sent.
 * Statuses of nodes that are down or paused simply fail and are skipped.
 */
export class ClockMonitor {
  readonly skews: SkewRecord[] = []

  /** One readable line per node whose HLC ran ahead of real time beyond the limit. */
  get violations (): string[] {
    return [...this.aheadOfTime].map(([id, v]) =>
      `${id}: HLC up to ${v.maxLeadMs} ms ahead of real time, in ${v.samples} status reads from ${new Date(v.firstAt).toISOString()}`)
  }
  /** Greatest HLC lead over real time per node, outside its own skew windows, in ms. */
  readonly maxLeadMs = new Map<string, number>()
  /** Per node whose HLC ran more than maxClockSkew ahead of real time: when first seen, how often, how far. */
  readonly aheadOfTime = new Map<string, { firstAt: number, samples: number, maxLeadMs: number }>()
  polls = 0
  #timer: NodeJS.Timeout | undefined
  #running = false
  #loop: Promise<void> | undefined
  /** Per `observer>peer`: state transfers the observer started towards the peer. */
  readonly #transfers = new Map<string, { pid: number | undefined, base: number, current: number }>()

  constructor (readonly cluster: ChaosCluster, readonly maxClockSkewMs: number, readonly token?: string) {}

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  async stop (): Promise<void> {
    this.#running = false
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#wake?.()
    await this.#loop
  }

  #wake: (() => void) | undefined

  async #run (): Promise<void> {
    while (this.#running) {
      await this.pollOnce()
      if (!this.#running) break
      await new Promise<void>(resolve => {
        this.#wake = resolve
        this.#timer = setTimeout(resolve, MONITOR_INTERVAL_MS)
      })
    }
  }

  skewStarted (node: string, offsetMs: number): void {
    this.skews.push({ node, offsetMs, from: Date.now(), reportedBy: [], selfLeadMs: 0, correctionMs: 0 })
  }

  skewEnded (node: string): void {
    const open = this.#open(node)
    if (open !== undefined) open.to = Date.now()
  }

  #open (node: string): SkewRecord | undefined {
    return this.skews.find(s => s.node === node && s.to === undefined)
  }

  /** State transfers sent (to `peer`, or to anyone), summed over every incarnation of every node. */
  stateTransfers (peer?: string): number {
    let total = 0
    for (const [key, t] of this.#transfers) {
      if (peer === undefined || key.endsWith(`>${peer}`)) total += t.base + t.current
    }
    return total
  }

  async pollOnce (): Promise<void> {
    this.polls++
    await Promise.all(this.cluster.ids.map(async id => {
      const node = this.cluster.node(id)
      if (node.state !== 'up') return
      let status: NodeStatus
      try {
        status = await apiGet<NodeStatus>(node.api, '/v1/status', { timeoutMs: MONITOR_TIMEOUT_MS, token: this.token })
      } catch {
        return
      }
      this.#observe(id, node.pid, status, Date.now())
    }))
  }

  #observe (id: string, pid: number | undefined, status: NodeStatus, now: number): void {
    const lead = status.hlcPhysicalMs - now
    const ownSkew = this.skews.find(s => s.node === id && (s.to === undefined || now < s.to + SKEW_END_GRACE_MS))
    if (ownSkew !== undefined) {
      ownSkew.selfLeadMs = Math.max(ownSkew.selfLeadMs, lead)
      const correction = status.clockCorrectionMs ?? 0
      if (Math.abs(correction) > Math.abs(ownSkew.correctionMs)) ownSkew.correctionMs = correction
    } else {
      this.maxLeadMs.set(id, Math.max(this.maxLeadMs.get(id) ?? -Infinity, lead))
      if (lead > this.maxClockSkewMs) {
        const seen = this.aheadOfTime.get(id) ?? { firstAt: now, samples: 0, maxLeadMs: lead }
        seen.samples++
        seen.maxLeadMs = Math.max(seen.maxLeadMs, lead)
        this.aheadOfTime.set(id, seen)
      }
    }
    for (const peer of status.peers ?? []) {
      const open = this.#open(peer.id)
      if (open !== undefined && peer.skewed && !open.reportedBy.includes(id)) {
        open.reportedBy.push(id)
        open.detectedAfterMs ??= now - open.from
      }
    }
    for (const peer of status.peers ?? []) {
      // Counters restart with the process: carry the last incarnation's total over.
      const key = `${id}>${peer.id}`
      const t = this.#transfers.get(key) ?? { pid, base: 0, current: 0 }
      if (t.pid !== pid) {
        t.base += t.current
        t.pid = pid
        t.current = 0
      }
      t.current = Math.max(t.current, peer.stateTransfers ?? 0)
      this.#transfers.set(key, t)
    }
  }
}
