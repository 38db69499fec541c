import type { StatusStore } from '../store/api.js'

/** The slice of the store a cursor uses. */
export type CursorStore = Pick<StatusStore, 'getCursor' | 'setCursor'>

/**
 * The last local seq a peer acknowledged, persisted. Writes are serialized so an older
 * value never lands last; a failed write is not retried (the store is closing, and the
 * peer gets those entries again next time: at-least-once).
 */
export class PeerCursor {
  readonly #store: CursorStore
  readonly #peer: string
  #value = 0
  #lastAckAt: number | null = null
  #writing: Promise<void> | undefined
  #dirty = false
  readonly #below: () => number | undefined

  /** @param below a seq the persisted value must stay under (relays left out, not confirmed). */
  constructor (store: CursorStore, peer: string, below: () => number | undefined = () => undefined) {
    this.#store = store
    this.#peer = peer
    this.#below = below
  }

  get value (): number { return this.#value }
  /** When an ack last moved the cursor, ms since the epoch; null if never. */
  get lastAckAt (): number | null { return this.#lastAckAt }

  async load (): Promise<void> {
    this.#value = await this.#store.getCursor(this.#peer)
  }

  /** The peer lost what it acknowledged: back to 0, persisted. */
  reset (): void {
    this.#value = 0
    this.#dirty = true
    if (this.#writing === undefined) this.#writing = this.#write()
  }

  advance (seq: number): void {
    this.#value = seq
    this.#lastAckAt = Date.now()
    this.#dirty = true
    if (this.#writing === undefined) this.#writing = this.#write()
  }

  /** Resolves once no write is running. */
  async idle (): Promise<void> {
    while (this.#writing !== undefined) await this.#writing
  }

  async #write (): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false
        // After a restart, what was left out and not confirmed is sent again.
        const below = this.#below()
        await this.#store.setCursor(this.#peer, below === undefined ? this.#value : Math.min(this.#value, below - 1))
      }
    } catch {
      // The store is closing; the peer gets these entries again next time (at-least-once).
    } finally {
      this.#writing = undefined
    }
  }
}
