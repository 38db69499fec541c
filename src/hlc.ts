import { CLOCK_JUMP_MS, HLC_UNITS_PER_MS } from './limits.js'
import { MarksyncError } from './errors.js'

/**
 * Hybrid logical clock (Kulkarni et al., 2014) packed into one safe integer:
 * `ts = physicalMs * HLC_UNITS_PER_MS + logical`. Packing makes the logical
 * counter overflow carry into the physical part, which is exactly the HLC rule
 * "never go backwards, stay close to the wall clock", and lets `ts` compare as
 * a plain number everywhere (storage keys, wire, precedence).
 */
export type WallClock = () => number

/** A step of the wall clock against the monotonic clock, as `HybridClock` saw and answered it. */
export interface ClockStep {
  /** Where the wall clock should have been (last reading plus monotonic time since), ms. */
  fromMs: number
  /** Where it is, ms. */
  toMs: number
  /** The stamping correction after the step, ms. */
  correctionMs: number
}

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
  /**
   * Monotonic clock in ms (default `performance.now`); `null` turns step detection off,
   * for callers whose injected wall clock jumps on purpose (deterministic tests).
   */
  monotonicClock?: (() => number) | null
  /** Called on every wall clock step larger than CLOCK_JUMP_MS. */
  onStep?: (step: ClockStep) => void
}

export class HybridClock {
  #last: number
  readonly #wall: WallClock
  readonly #maxDriftMs: number
  readonly #monotonic: (() => number) | null
  readonly #onStep: ((step: ClockStep) => void) | undefined
  #correctionMs = 0
  #anchorWall = 0
  #anchorMono = 0

  constructor (init: HybridClockInit = {}) {
    this.#last = init.last ?? 0
    this.#wall = init.wallClock ?? Date.now
    this.#maxDriftMs = init.maxDriftMs ?? Infinity
    this.#monotonic = init.monotonicClock === undefined ? () => performance.now() : init.monotonicClock
    this.#onStep = init.onStep
    if (this.#monotonic !== null) {
      this.#anchorWall = this.#wall()
      this.#anchorMono = this.#monotonic()
    }
  }

  /**
   * Reads the wall clock and answers a step against the monotonic clock at once, before
   * anything is stamped with it. Only a step forward is compensated: a clock that leaps
   * ahead would otherwise stamp changes into the future, and an HLC can never take such a
   * stamp back (it wins every conflict until real time catches up). Stamping keeps to the
   * old timeline until the peers confirm the new one (the replicator then resets the
   * correction). A step back needs no compensation (the HLC never runs backwards), except
   * that it first cancels a compensation still in force: the clock returning from a leap.
   */
  #read (): number {
    const wall = this.#wall()
    if (this.#monotonic === null) return wall
    const mono = this.#monotonic()
    const expected = this.#anchorWall + (mono - this.#anchorMono)
    const step = wall - expected
    // Re-anchor before telling anyone: a listener that reads the clock must not see the step twice.
    this.#anchorWall = wall
    this.#anchorMono = mono
    if (Math.abs(step) > CLOCK_JUMP_MS) {
      if (step > 0) this.#correctionMs -= step
      else if (this.#correctionMs < 0) this.#correctionMs = Math.min(0, this.#correctionMs - step)
      this.#onStep?.({ fromMs: Math.round(expected), toMs: wall, correctionMs: this.#correctionMs })
    }
    return wall
  }

  /** The last timestamp issued or received. */
  get last (): number {
    return this.#last
  }

  /** Wall clock reading in ms (the injected source, uncorrected). */
  wallTime (): number {
    return this.#read()
  }

  /** The correction currently added to the wall clock when stamping local events, in ms. */
  get correctionMs (): number {
    return this.#correctionMs
  }

  /**
   * Stamp local events with `wall + ms` from now on. The replicator sets this when the
   * peers agree that this node's wall clock is off, so that a bad clock does not stamp
   * changes into the future; 0 puts the raw wall clock back. A detected step of the wall
   * clock changes it too (see `#read`).
   */
  setCorrection (ms: number): void {
    this.#correctionMs = ms
  }

  /** A timestamp for a local event: greater than every timestamp seen so far. */
  now (): number {
    const wall = this.#read()
    this.#last = Math.max(this.#last + 1, packTimestamp(Math.round(wall + this.#correctionMs)))
    return this.#last
  }

  /** Throws `CLOCK_SKEW` if `ts` is further ahead of our (corrected) wall clock than allowed. */
  check (ts: number): void {
    const lead = physicalMs(ts) - (this.#read() + this.#correctionMs)
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
