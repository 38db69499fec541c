/**
 * Rates of growing counters (entries entered, bytes per peer), for the status page:
 * samples the counters every `sampleMs` into a ring covering `windowMs`, and answers
 * the increase per second between the oldest and the newest sample. Counters that
 * shrink (a peer removed, a restart) count as a fresh start, never as a negative rate.
 */
import { RATE_SAMPLE_MS, RATE_WINDOW_MS } from '../limits.js'

export type Counters = Record<string, number>

export interface ThroughputInit {
  /** The counters now; keys are stable names (e.g. `entries`, `b.bytesIn`). */
  read: () => Counters
  sampleMs?: number
  windowMs?: number
  now?: () => number
}

interface Sample { at: number, counters: Counters }

export class Throughput {
  readonly #init: ThroughputInit
  readonly #samples: Sample[] = []
  readonly #max: number
  #timer: NodeJS.Timeout | undefined

  constructor (init: ThroughputInit) {
    this.#init = init
    const sampleMs = init.sampleMs ?? RATE_SAMPLE_MS
    this.#max = Math.max(2, Math.ceil((init.windowMs ?? RATE_WINDOW_MS) / sampleMs) + 1)
  }

  start (): void {
    if (this.#timer !== undefined) return
    this.sample()
    this.#timer = setInterval(() => this.sample(), this.#init.sampleMs ?? RATE_SAMPLE_MS)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  sample (): void {
    const now = this.#init.now ?? Date.now
    this.#samples.push({ at: now(), counters: this.#init.read() })
    if (this.#samples.length > this.#max) this.#samples.shift()
  }

  /** The span the rates cover, in ms (0 until two samples exist). */
  get windowMs (): number {
    const first = this.#samples[0]
    const last = this.#samples[this.#samples.length - 1]
    return first === undefined || last === undefined ? 0 : last.at - first.at
  }

  /** Increase per second of `key` over the window; 0 while unknown. */
  perSecond (key: string): number {
    const first = this.#samples[0]
    const last = this.#samples[this.#samples.length - 1]
    if (first === undefined || last === undefined || last.at <= first.at) return 0
    const end = last.counters[key] ?? 0
    const start = first.counters[key] ?? 0
    const delta = end >= start ? end - start : end
    return Math.round((delta * 1000 / (last.at - first.at)) * 100) / 100
  }
}
