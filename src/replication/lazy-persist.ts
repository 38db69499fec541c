/**
 * Persists a value that only ever needs its latest version on disk (a peer's feed cursor,
 * its peer record): writes run one at a time, the latest value last, and at most one
 * starts per `minIntervalMs`, so a stream of acks costs a few writes a second instead of
 * one each. The first write after a pause starts at once. What a crash loses is only an
 * older value on disk: the peer gets entries again (at-least-once), as docs/protocol.md says.
 */
export class LazyPersist {
  readonly #write: () => Promise<void>
  readonly #minIntervalMs: number
  #writing: Promise<void> | undefined
  #dirty = false
  #lastStart = -Infinity
  /** Set by `flush`: write what is pending without waiting out the interval. */
  #hurry = false
  #wake: (() => void) | undefined

  /** @param write persists the current value; a failure is not retried (the store is closing or failing). */
  constructor (write: () => Promise<void>, minIntervalMs: number) {
    this.#write = write
    this.#minIntervalMs = minIntervalMs
  }

  /** The value changed: it is written soon. */
  changed (): void {
    this.#dirty = true
    if (this.#writing === undefined) this.#writing = this.#run()
  }

  /** Writes what is pending now, and resolves once no write runs (for a clean stop). */
  async flush (): Promise<void> {
    this.#hurry = true
    this.#wake?.()
    try {
      while (this.#writing !== undefined) await this.#writing
    } finally {
      this.#hurry = false
    }
  }

  async #run (): Promise<void> {
    try {
      while (this.#dirty) {
        await this.#pause(this.#lastStart + this.#minIntervalMs - performance.now())
        this.#dirty = false
        this.#lastStart = performance.now()
        await this.#write()
      }
    } catch {
      // Not retried: the next change writes again.
    } finally {
      this.#writing = undefined
    }
  }

  async #pause (ms: number): Promise<void> {
    if (ms <= 0 || this.#hurry) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { this.#wake = undefined; resolve() }, ms)
      timer.unref()
      this.#wake = () => { clearTimeout(timer); this.#wake = undefined; resolve() }
    })
  }
}
