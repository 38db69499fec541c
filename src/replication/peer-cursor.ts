import { PEER_STATE_PERSIST_MS } from '../limits.js'
import type { StatusStore } from '../store/api.js'
import { LazyPersist } from './lazy-persist.js'

/** The slice of the store a cursor uses. */
export type CursorStore = Pick<StatusStore, 'getCursor' | 'setCursor'>

/**
 * The last local seq a peer acknowledged, persisted lazily (lazy-persist.ts): writes are
 * serialized so an older value never lands last, at most one per PEER_STATE_PERSIST_MS; a
 * failed write is not retried (the store is closing, and the peer gets those entries again
 * next time: at-least-once).
 */
export class PeerCursor {
  readonly #store: CursorStore
  readonly #peer: string
  #value = 0
  #lastAckAt: number | null = null
  readonly #below: () => number | undefined
  readonly #persist: LazyPersist

  /** @param below a seq the persisted value must stay under (relays left out, not confirmed). */
  constructor (store: CursorStore, peer: string, below: () => number | undefined = () => undefined) {
    this.#store = store
    this.#peer = peer
    this.#below = below
    this.#persist = new LazyPersist(async () => { await this.#write() }, PEER_STATE_PERSIST_MS)
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
    this.#persist.changed()
  }

  advance (seq: number): void {
    this.#value = seq
    this.#lastAckAt = Date.now()
    this.#persist.changed()
  }

  /** Writes what is pending now; resolves once no write is running. */
  async idle (): Promise<void> {
    await this.#persist.flush()
  }

  async #write (): Promise<void> {
    // After a restart, what was left out and not confirmed is sent again.
    const below = this.#below()
    await this.#store.setCursor(this.#peer, below === undefined ? this.#value : Math.min(this.#value, below - 1))
  }
}
