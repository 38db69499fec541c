/**
 * Anti-entropy, the safety net under replication (docs/operations.md "Anti-entropy"):
 * every `intervalMs` (± ANTI_ENTROPY_JITTER) this node runs a digest round with each
 * connected peer (digest-exchange.ts), and on demand (`repair`). It owns the digest
 * table and counts what rounds find, for status and metrics.
 */
import { EventEmitter } from 'node:events'
import { ANTI_ENTROPY_JITTER } from '../limits.js'
import type { DigestFrame } from '../protocol/digest-frames.js'
import { DigestTable, type DigestSource } from './digest-table.js'
import { DigestExchange, type DigestChannel, type DigestExchangeInit, type RoundResult } from './digest-exchange.js'
import type { PageLimits } from './winner-pages.js'

/** Protocol version that brought the anti-entropy frames. */
export const ANTI_ENTROPY_VERSION = 2
/** How often due rounds are looked for, at most, in ms. */
const TICK_MS = 1_000

export interface AntiEntropyInit {
  store: DigestSource & DigestExchangeInit['store']
  peers: readonly string[]
  /** Time between two rounds with a peer, in ms; 0: only on demand. */
  intervalMs: number
  limits: PageLimits
  random?: () => number
}

export interface AntiEntropyStatus {
  intervalMs: number
  rounds: number
  roundsFailed: number
  /** Users whose digests differed, over every round this node ran. */
  divergentUsers: number
  /** Winners entered on this node through anti-entropy (pulled, or pushed by a peer). */
  entriesRepaired: number
  lastRoundAt: number | null
  lastDivergenceAt: number | null
}

/** One peer's part of a repair: what its round did, or why there was none. */
export type RepairOutcome = (RoundResult & { ok: true }) | { peer: string, ok: false, error: string }

interface PeerState {
  exchange: DigestExchange
  connected: boolean
  nextAt: number
  running: Promise<RoundResult> | undefined
}

/**
 * Events: `'round' (RoundResult)` after every round, `'round-failed' ({ peer, reason })`.
 */
export class AntiEntropy extends EventEmitter {
  readonly table: DigestTable
  readonly #init: AntiEntropyInit
  readonly #peers = new Map<string, PeerState>()
  readonly #random: () => number
  #timer: NodeJS.Timeout | undefined
  readonly #status: AntiEntropyStatus

  constructor (init: AntiEntropyInit) {
    super()
    this.#init = init
    this.#random = init.random ?? Math.random
    this.table = new DigestTable(init.store)
    this.#status = { intervalMs: init.intervalMs, rounds: 0, roundsFailed: 0, divergentUsers: 0, entriesRepaired: 0, lastRoundAt: null, lastDivergenceAt: null }
    for (const peer of init.peers) {
      const exchange = new DigestExchange({ peer, table: this.table, store: init.store, limits: init.limits, onRepaired: n => { this.#status.entriesRepaired += n } })
      this.#peers.set(peer, { exchange, connected: false, nextAt: 0, running: undefined })
    }
  }

  start (): void {
    if (this.#timer !== undefined) return
    this.table.start()
    const now = Date.now()
    // The first rounds spread over one interval, so a restarted mesh does not round all at once.
    for (const p of this.#peers.values()) p.nextAt = now + this.#init.intervalMs * this.#random()
    if (this.#init.intervalMs > 0) this.#timer = setInterval(() => { this.#tick() }, Math.min(TICK_MS, this.#init.intervalMs))
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.table.stop()
    for (const p of this.#peers.values()) p.exchange.detach()
  }

  /** A session with `peer` is established; anti-entropy needs protocol version 2. */
  attach (peer: string, channel: DigestChannel, version: number): void {
    const p = this.#peers.get(peer)
    if (p === undefined || version < ANTI_ENTROPY_VERSION) return
    p.exchange.attach(channel)
    p.connected = true
  }

  detach (peer: string): void {
    const p = this.#peers.get(peer)
    if (p === undefined) return
    p.exchange.detach()
    p.connected = false
  }

  onFrame (peer: string, frame: DigestFrame, bytes: number): void {
    this.#peers.get(peer)?.exchange.onFrame(frame, bytes)
  }

  status (): AntiEntropyStatus {
    return { ...this.#status }
  }

  /** Rounds now with `peer` (or every peer), for `user` only if given; one outcome per peer. */
  async repair (options: { peer?: string, user?: string } = {}): Promise<RepairOutcome[]> {
    const peers = [...this.#peers.entries()].filter(([id]) => options.peer === undefined || options.peer === id)
    return await Promise.all(peers.map(async ([peer, p]): Promise<RepairOutcome> => {
      if (!p.connected) return { peer, ok: false, error: 'no session with this peer (or it speaks protocol version 1)' }
      try {
        return { ...await this.#round(peer, options.user), ok: true }
      } catch (err) {
        return { peer, ok: false, error: (err as Error).message }
      }
    }))
  }

  get peers (): string[] {
    return [...this.#peers.keys()]
  }

  #tick (): void {
    const now = Date.now()
    for (const [id, p] of this.#peers) {
      if (!p.connected || p.running !== undefined || now < p.nextAt) continue
      this.#round(id).catch(() => {}) // reported as 'round-failed'
    }
  }

  /** One round at a time per peer: a repair asked during a periodic round waits for it. */
  async #round (peer: string, user?: string): Promise<RoundResult> {
    const p = this.#peers.get(peer) as PeerState
    while (p.running !== undefined) await p.running.catch(() => {})
    const jitter = 1 + ANTI_ENTROPY_JITTER * (2 * this.#random() - 1)
    p.nextAt = Date.now() + this.#init.intervalMs * jitter
    const running = p.exchange.round(user)
    p.running = running
    try {
      const result = await running
      this.#count(result)
      this.emit('round', result)
      return result
    } catch (err) {
      this.#status.roundsFailed++
      this.emit('round-failed', { peer, reason: (err as Error).message })
      throw err
    } finally {
      p.running = undefined
    }
  }

  #count (result: RoundResult): void {
    const s = this.#status
    s.rounds++
    s.lastRoundAt = Date.now()
    s.divergentUsers += result.users
    if (result.pulled + result.pushed > 0) s.lastDivergenceAt = s.lastRoundAt
  }
}
