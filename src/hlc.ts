import { HLC_UNITS_PER_MS } from './limits.js'
import { MarksyncError } from './errors.js'

/**
 * Hybrid logical clock (Kulkarni et al., 2014) packed into one safe integer:
 * `ts = physicalMs * HLC_UNITS_PER_MS + logical`. Packing makes the logical
 * counter overflow carry into the physical part, which is exactly the HLC rule
 * "never go backwards, stay close to the wall clock", and lets `ts` compare as
 * a plain number everywhere (storage keys, wire, precedence).
 */
export type WallClock = () => number

export function physicalMs (ts: number): number {
  return Math.floor(ts / HLC_UNITS_PER_MS)
}

export function logicalOf (ts: number): number {
  return ts % HLC_UNITS_PER_MS
}

export function packTimestamp (ms: number, logical = 0): number {
  return ms * HLC_UNITS_PER_MS + logical
}

export function isTimestamp (ts: unknown): ts is number {
  return typeof ts === 'number' && Number.isSafeInteger(ts) && ts > 0
}

export interface HybridClockInit {
  /** The last timestamp issued before (persisted), so the clock never runs backwards. */
  last?: number
  /** Wall clock in ms since the epoch; injectable for tests. Default `Date.now`. */
  wallClock?: WallClock
  /**
   * Largest lead, in ms, that a received timestamp may have over our wall clock.
   * A timestamp further ahead is refused with `CLOCK_SKEW` instead of dragging
   * this clock (and every timestamp it issues afterwards) into the future.
   */
  maxDriftMs?: number
}

export class HybridClock {
  #last: number
  readonly #wall: WallClock
  readonly #maxDriftMs: number
  #correctionMs = 0

  constructor (init: HybridClockInit = {}) {
    this.#last = init.last ?? 0
    this.#wall = init.wallClock ?? Date.now
    this.#maxDriftMs = init.maxDriftMs ?? Infinity
  }

  /** The last timestamp issued or received. */
  get last (): number {
    return this.#last
  }

  /** Wall clock reading in ms (the injected source, uncorrected). */
  wallTime (): number {
    return this.#wall()
  }

  /** The correction currently added to the wall clock when stamping local events, in ms. */
  get correctionMs (): number {
    return this.#correctionMs
  }

  /**
   * Stamp local events with `wall + ms` from now on. The replicator sets this when the
   * peers agree that this node's wall clock is off, so that a bad clock does not stamp
   * changes into the future; 0 puts the raw wall clock back.
   */
  setCorrection (ms: number): void {
    this.#correctionMs = ms
  }

  /** A timestamp for a local event: greater than every timestamp seen so far. */
  now (): number {
    this.#last = Math.max(this.#last + 1, packTimestamp(Math.round(this.#wall() + this.#correctionMs)))
    return this.#last
  }

  /** Throws `CLOCK_SKEW` if `ts` is further ahead of our wall clock than allowed. */
  check (ts: number): void {
    const lead = physicalMs(ts) - this.#wall()
    if (lead > this.#maxDriftMs) {
      throw new MarksyncError('CLOCK_SKEW', `timestamp is ${lead} ms ahead of this node's clock (limit ${this.#maxDriftMs} ms)`)
    }
  }

  /**
   * Merge a timestamp received from elsewhere, so that every later local event
   * orders after it (causality), whatever the wall clocks say.
   */
  receive (ts: number): void {
    this.check(ts)
    if (ts > this.#last) this.#last = ts
  }
}
