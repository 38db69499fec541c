import type { PurgeResult } from '../contracts.js'

/**
 * Runs the store's purge on a schedule and on demand, one at a time (a purge asked
 * for while one runs waits for it, then runs: its caller sees a fresh horizon).
 */
export type PurgeTrigger = 'schedule' | 'api'

export interface PurgerOptions {
  /** Between scheduled purges, in ms; 0 turns the schedule off. */
  intervalMs: number
  purge: () => Promise<PurgeResult>
  onPurge?: (result: PurgeResult, trigger: PurgeTrigger, durationMs: number) => void
  /** A scheduled purge failed (an on-demand one rejects to its caller instead). */
  onError?: (err: unknown) => void
}

export class Purger {
  readonly #options: PurgerOptions
  #timer: NodeJS.Timeout | undefined
  #chain: Promise<unknown> = Promise.resolve()
  #stopped = false

  constructor (options: PurgerOptions) {
    this.#options = options
  }

  start (): void {
    if (this.#timer !== undefined || this.#options.intervalMs <= 0 || this.#stopped) return
    this.#timer = setInterval(() => {
      this.run('schedule').catch(err => this.#options.onError?.(err))
    }, this.#options.intervalMs)
    // The schedule alone must not keep the process alive.
    this.#timer.unref()
  }

  /** Idempotent: clears the schedule and waits for a running purge. */
  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#chain.catch(() => {})
  }

  async run (trigger: PurgeTrigger): Promise<PurgeResult> {
    const next = this.#chain.catch(() => {}).then(async () => {
      const started = Date.now()
      const result = await this.#options.purge()
      this.#options.onPurge?.(result, trigger, Date.now() - started)
      return result
    })
    this.#chain = next
    return await next
  }
}
