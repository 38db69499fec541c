/**
 * Per-peer budgets of the replication listener (docs/security.md "Budgets"):
 *
 * - Admission: at most `maxInbound` inbound sockets, of which at most
 *   `maxPendingHandshakes` not yet authenticated, checked at the HTTP upgrade before a
 *   WebSocket (and its receive buffer) exists. Honest peers are never starved by it:
 *   every node also dials every peer, so a pair whose one listener is saturated still
 *   meets through the other.
 * - Faults and backoff: a session this node closes for bad input, a failed handshake
 *   or a flood is a fault. `maxFaults` faults within `faultWindowMs` refuse the source
 *   for a backoff that doubles per repeat (`backoffMinMs`..`backoffMaxMs`). Before
 *   authentication the source is the remote address (nothing else is known; a peer id
 *   in a hello is only a claim); after it, the authenticated peer id, so a faulty
 *   cluster member cannot get its neighbours' shared address refused.
 * - Frame rate: a token bucket per session (`FrameRate`); a peer beyond it is closed
 *   with RATE_LIMITED, which is a fault like any other.
 *
 * Pure bookkeeping on timestamps: no timers, nothing to stop.
 */
import {
  MAX_INBOUND_CONNECTIONS, MAX_PENDING_HANDSHAKES, MAX_TRACKED_FAULT_SOURCES, PEER_BACKOFF_MAX_MS,
  PEER_BACKOFF_MIN_MS, PEER_FAULT_WINDOW_MS, PEER_FRAME_BURST, PEER_FRAME_RATE, PEER_MAX_FAULTS
} from '../limits.js'

export interface PeerBudgetOptions {
  /** Most inbound sockets at once (handshaking or established). */
  maxInbound: number
  /** Most inbound sockets at once that have not completed the handshake. */
  maxPendingHandshakes: number
  /** Faults within `faultWindowMs` that refuse their source. */
  maxFaults: number
  faultWindowMs: number
  /** First refusal, in ms; doubles per repeat up to `backoffMaxMs`. */
  backoffMinMs: number
  backoffMaxMs: number
  /** Frames per second a session may sustain, and the burst it may send at once. */
  frameRate: number
  frameBurst: number
}

export const DEFAULT_PEER_BUDGET: Readonly<PeerBudgetOptions> = {
  maxInbound: MAX_INBOUND_CONNECTIONS,
  maxPendingHandshakes: MAX_PENDING_HANDSHAKES,
  maxFaults: PEER_MAX_FAULTS,
  faultWindowMs: PEER_FAULT_WINDOW_MS,
  backoffMinMs: PEER_BACKOFF_MIN_MS,
  backoffMaxMs: PEER_BACKOFF_MAX_MS,
  frameRate: PEER_FRAME_RATE,
  frameBurst: PEER_FRAME_BURST
}

interface Source {
  /** Faults in the current window and when it began (ms). */
  faults: number
  windowStart: number
  /** Refusals so far (for the doubling) and until when the current one lasts (ms). */
  refusals: number
  refusedUntil: number
}

export type Admission = { ok: true } | { ok: false, status: number, code: string, message: string, retryAfterMs?: number }

export class PeerBudget {
  readonly options: Readonly<PeerBudgetOptions>
  readonly #now: () => number
  /** Insertion-ordered, so the oldest entry is evicted first when the table is full. */
  readonly #sources = new Map<string, Source>()

  constructor (options: Partial<PeerBudgetOptions> = {}, now: () => number = Date.now) {
    this.options = { ...DEFAULT_PEER_BUDGET, ...options }
    this.#now = now
  }

  /** May a new inbound socket from `address` be upgraded, given what is open now? */
  admit (address: string, inbound: number, pending: number): Admission {
    const wait = this.refusedFor(addressKey(address))
    if (wait > 0) return { ok: false, status: 429, code: 'BACKED_OFF', message: 'too many faults from this address', retryAfterMs: wait }
    if (inbound >= this.options.maxInbound) return { ok: false, status: 503, code: 'TOO_MANY_CONNECTIONS', message: `${inbound} inbound connections (limit ${this.options.maxInbound})` }
    if (pending >= this.options.maxPendingHandshakes) return { ok: false, status: 503, code: 'TOO_MANY_CONNECTIONS', message: `${pending} handshakes in progress (limit ${this.options.maxPendingHandshakes})` }
    return { ok: true }
  }

  /** ms until `key` is accepted again; 0 if it is not refused. */
  refusedFor (key: string): number {
    const s = this.#sources.get(key)
    return s === undefined ? 0 : Math.max(0, s.refusedUntil - this.#now())
  }

  /** Counts one fault of `key`; returns the refusal it started, in ms, or 0. */
  fault (key: string): number {
    const now = this.#now()
    let s = this.#sources.get(key)
    if (s === undefined) {
      if (this.#sources.size >= MAX_TRACKED_FAULT_SOURCES) this.#evict(now)
      s = { faults: 0, windowStart: now, refusals: 0, refusedUntil: 0 }
      this.#sources.set(key, s)
    }
    if (now - s.windowStart > this.options.faultWindowMs) {
      // A whole quiet window after the last refusal forgives it: the doubling is for repeat offenders.
      if (now - s.refusedUntil > this.options.faultWindowMs) s.refusals = 0
      s.faults = 0
      s.windowStart = now
    }
    s.faults++
    if (s.faults < this.options.maxFaults) return 0
    const ms = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** Math.min(s.refusals, 30))
    s.refusals++
    s.faults = 0
    s.windowStart = now
    s.refusedUntil = now + ms
    return ms
  }

  /** Drops sources neither refused nor faulted recently, oldest first, to make room. */
  #evict (now: number): void {
    for (const [key, s] of this.#sources) {
      if (s.refusedUntil <= now && now - s.windowStart > this.options.faultWindowMs) this.#sources.delete(key)
    }
    // Still full (a spray of fresh addresses): forget the oldest, bounded memory first.
    while (this.#sources.size >= MAX_TRACKED_FAULT_SOURCES) {
      const oldest = this.#sources.keys().next().value as string
      this.#sources.delete(oldest)
    }
  }

  /** A token bucket for one session. */
  frameRate (): FrameRate {
    return new FrameRate(this.options.frameRate, this.options.frameBurst, () => performance.now())
  }
}

export function addressKey (address: string): string {
  return `addr:${address}`
}

export function peerKey (id: string): string {
  return `peer:${id}`
}

/** Frames a session may still receive: `burst` at once, refilled at `perSecond`. */
export class FrameRate {
  #tokens: number
  #last: number

  constructor (readonly perSecond: number, readonly burst: number, readonly now: () => number) {
    this.#tokens = burst
    this.#last = now()
  }

  /** False once the peer sends faster than the budget allows. */
  take (): boolean {
    const now = this.now()
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#last) * this.perSecond / 1000)
    this.#last = now
    if (this.#tokens < 1) return false
    this.#tokens--
    return true
  }
}
