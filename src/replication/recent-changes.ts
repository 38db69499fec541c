import { ByIdentity, type ChangeIdentity } from './by-identity.js'

/**
 * The last `capacity` changes this node entered, by exact identity (user, message,
 * origin, ts). Winners never decrease, so a change seen here can only be a duplicate
 * or stale if it arrives again: it is dropped before the store is asked. In a mesh the
 * same change arrives once per path (A→C and A→B→C); this spares the store the second
 * read-and-discard, which otherwise doubles a receiver's work in a full mesh.
 */
export class RecentChanges {
  readonly #seen = new ByIdentity<true>()
  /** The same changes in insertion order, as a ring: the slot to overwrite next is the oldest. */
  readonly #ring: Array<ChangeIdentity | undefined>
  #next = 0
  /** Changes handed to the store and not committed yet, with the apply that carries them. */
  readonly #pending = new ByIdentity<Promise<unknown>>()
  readonly #capacity: number

  constructor (capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity))
    this.#ring = new Array<ChangeIdentity | undefined>(this.#capacity)
  }

  add (c: ChangeIdentity): void {
    if (this.#capacity === 0 || this.#seen.has(c)) return
    const oldest = this.#ring[this.#next]
    if (oldest !== undefined) this.#seen.delete(oldest)
    this.#ring[this.#next] = c
    this.#seen.set(c, true)
    this.#next = (this.#next + 1) % this.#capacity
  }

  has (c: ChangeIdentity): boolean {
    return this.#seen.has(c)
  }

  /**
   * The same change arriving from two peers at once (both streaming a catch-up) is
   * applied once: the second copy waits for this apply instead of adding its own.
   */
  track (changes: ChangeIdentity[], applying: Promise<unknown>): void {
    for (const c of changes) this.#pending.set(c, applying)
    const done = (): void => {
      for (const c of changes) this.#pending.delete(c, applying)
    }
    applying.then(done, done)
  }

  /** The apply in flight that carries this change, if any. */
  pendingFor (c: ChangeIdentity): Promise<unknown> | undefined {
    return this.#pending.get(c)
  }

  get pendingSize (): number {
    return this.#pending.size
  }

  get size (): number {
    return this.#seen.size
  }
}
