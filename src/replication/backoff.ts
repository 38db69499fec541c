import { RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../limits.js'

/**
 * Capped exponential backoff with full jitter: the n-th consecutive failure waits a
 * random time in [base/2, base] with base = min(max, min * 2^n). The jitter keeps a
 * cluster that lost a node from redialing it in lockstep.
 */
export class Backoff {
  readonly #minMs: number
  readonly #maxMs: number
  #failures = 0

  constructor (minMs = RECONNECT_MIN_MS, maxMs = RECONNECT_MAX_MS, readonly random: () => number = Math.random) {
    this.#minMs = minMs
    this.#maxMs = maxMs
  }

  /** The delay before the next attempt, in ms; counts one more failure. */
  next (): number {
    const base = Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(this.#failures, 30))
    this.#failures++
    return Math.round(base / 2 + this.random() * base / 2)
  }

  reset (): void {
    this.#failures = 0
  }
}
