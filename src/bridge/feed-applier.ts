import { BRIDGE_FEED_BATCH, BRIDGE_RETRY_MAX_MS, BRIDGE_RETRY_MIN_MS, MAX_CHANGES_WAIT_MS } from '../limits.js'
import { waitForEntries } from '../api/change-feed.js'
import type { StatusStore } from '../store/api.js'
import type { Status } from '../types.js'

export interface FeedApplierOptions {
  store: StatusStore
  /** The last seq whose entries Dovecot acknowledged (persisted by `saveCursor`). */
  cursor: number
  /**
   * Applies the winners of these messages (user → Message-ID → the status of its last entry in
   * the batch); resolves once Dovecot acknowledged.
   */
  apply: (byUser: Map<string, Map<string, Status>>) => Promise<void>
  saveCursor: (seq: number) => Promise<void>
  /** Entries after the cursor were purged before they were applied: reconcile everything known. */
  reconcile: () => Promise<void>
  onError: (err: unknown) => void
}

async function pause (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
}

/**
 * Consumes the node's change feed in-process (the same entries `GET /v1/changes`
 * serves) and hands them to the bridge, a batch at a time. The cursor moves, and is
 * persisted, only after the batch was applied: a crash replays it, which is harmless
 * because applying a winner twice changes nothing. A failing batch is retried with
 * backoff, so entries are never skipped while Dovecot is unreachable.
 */
export class FeedApplier {
  readonly #o: FeedApplierOptions
  readonly #stop = new AbortController()
  #cursor: number
  #loop: Promise<void> | undefined
  failures = 0

  constructor (options: FeedApplierOptions) {
    this.#o = options
    this.#cursor = options.cursor
  }

  get cursor (): number { return this.#cursor }

  start (): void {
    this.#loop ??= this.#run()
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    await this.#loop
  }

  async #run (): Promise<void> {
    const { store } = this.#o
    const signal = this.#stop.signal
    let backoff = BRIDGE_RETRY_MIN_MS
    while (!signal.aborted) {
      try {
        await this.#round()
        backoff = BRIDGE_RETRY_MIN_MS
      } catch (err) {
        this.failures++
        if (signal.aborted) return
        this.#o.onError(err)
        await pause(backoff, signal)
        backoff = Math.min(backoff * 2, BRIDGE_RETRY_MAX_MS)
        continue
      }
      if (store.lastSeq <= this.#cursor) await waitForEntries(store, this.#cursor, MAX_CHANGES_WAIT_MS, signal)
    }
  }

  async #round (): Promise<void> {
    const { store } = this.#o
    if (this.#cursor < store.oldestSeq - 1) {
      const resumeAt = store.oldestSeq - 1
      await this.#o.reconcile()
      await this.#advance(resumeAt)
    }
    const entries = await store.feed(this.#cursor, BRIDGE_FEED_BATCH)
    const last = entries[entries.length - 1]
    if (last === undefined) return
    const byUser = new Map<string, Map<string, Status>>()
    for (const entry of entries) {
      let ids = byUser.get(entry.user)
      if (ids === undefined) byUser.set(entry.user, ids = new Map())
      ids.set(entry.message, entry.status)
    }
    await this.#o.apply(byUser)
    await this.#advance(last.seq)
  }

  async #advance (seq: number): Promise<void> {
    await this.#o.saveCursor(seq)
    this.#cursor = seq
  }
}
