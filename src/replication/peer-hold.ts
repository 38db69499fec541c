/**
 * Why this node holds (refuses the batches of) one peer, for the current session only
 * (docs/protocol.md "Clock skew"): its clock is ahead beyond maxClockSkew (`CLOCK_SKEW`,
 * ends when a heartbeat measures it back within the limit), or it sent entries stamped
 * ahead of this node's clock (`FUTURE_TIMESTAMP`, ends when they are no longer ahead, or
 * with the session: a new session is judged by what it sends).
 */
import { physicalMs } from '../hlc.js'
import type { PeerHold } from '../contracts.js'

/** Shortest hold after the store refused a batch as CLOCK_SKEW, in ms. */
const MIN_FUTURE_HOLD_MS = 1_000

export class HoldJudge {
  readonly #maxClockSkewMs: number
  #future: { aheadMs: number, until: number } | undefined
  #hold: PeerHold | null = null

  constructor (maxClockSkewMs: number) {
    this.#maxClockSkewMs = maxClockSkewMs
  }

  /** The hold in force, or null. */
  get hold (): PeerHold | null { return this.#hold }

  /** A new session: what held the last one says nothing about this one. */
  reset (): void {
    this.#future = undefined
    this.#hold = null
  }

  /** The store refused a frame whose greatest stamp is `maxTs` as too far ahead (CLOCK_SKEW). */
  future (maxTs: number, wallMs: number): void {
    const stampMs = physicalMs(maxTs)
    this.#future = { aheadMs: stampMs - wallMs, until: Math.max(stampMs - this.#maxClockSkewMs, wallMs + MIN_FUTURE_HOLD_MS) }
  }

  /**
   * The hold for the peer's clock offset and the entries it sent, at `wallMs`; `changed`
   * when a hold starts, ends or changes its reason (the peer must be told).
   */
  evaluate (offsetMs: number, wallMs: number): { hold: PeerHold | null, changed: boolean } {
    if (this.#future !== undefined && wallMs >= this.#future.until) this.#future = undefined
    const want = this.#future !== undefined
      ? { reason: 'FUTURE_TIMESTAMP' as const, aheadMs: this.#future.aheadMs, until: this.#future.until }
      : offsetMs > this.#maxClockSkewMs ? { reason: 'CLOCK_SKEW' as const, aheadMs: offsetMs, until: null } : null
    const before = this.#hold
    if (want === null) {
      this.#hold = null
      return { hold: null, changed: before !== null }
    }
    const changed = before === null || before.reason !== want.reason
    this.#hold = { ...want, since: changed ? wallMs : (before as PeerHold).since }
    return { hold: this.#hold, changed }
  }
}
