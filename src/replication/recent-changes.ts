import type { Change } from '../types.js'

/**
 * The last `capacity` changes this node entered, by exact identity (user, message,
 * origin, ts). Winners never decrease, so a change seen here can only be a duplicate
 * or stale if it arrives again: it is dropped before the store is asked. In a mesh the
 * same change arrives once per path (A→C and A→B→C); this spares the store the second
 * read-and-discard, which otherwise doubles a receiver's work in a full mesh.
 */
export class RecentChanges {
  readonly #keys = new Set<string>()
  /** The same keys in insertion order, as a ring: the slot to overwrite next is the oldest. */
  readonly #ring: Array<string | undefined>
  #next = 0
  /** Changes handed to the store and not committed yet, with the apply that carries them. */
  readonly #pending = new Map<string, Promise<unknown>>()
  readonly #capacity: number

  constructor (capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity))
    this.#ring = new Array<string | undefined>(this.#capacity)
  }

  static key (c: Change): string {
    // NUL cannot appear in ids (no control characters), so the parts cannot run together.
    return `${c.ts}\u0000${c.origin}\u0000${c.user}\u0000${c.message}`
  }

  add (c: Change): void {
    this.addKey(RecentChanges.key(c))
  }

  addKey (key: string): void {
    if (this.#capacity === 0 || this.#keys.has(key)) return
    const oldest = this.#ring[this.#next]
    if (oldest !== undefined) this.#keys.delete(oldest)
    this.#ring[this.#next] = key
    this.#keys.add(key)
    this.#next = (this.#next + 1) % this.#capacity
  }

  has (c: Change): boolean {
    return this.#keys.has(RecentChanges.key(c))
  }

  hasKey (key: string): boolean {
    return this.#keys.has(key)
  }

  /**
   * The same change arriving from two peers at once (both streaming a catch-up) is
   * applied once: the second copy waits for this apply instead of adding its own.
   */
  track (keys: string[], applying: Promise<unknown>): void {
    for (const k of keys) this.#pending.set(k, applying)
    const done = (): void => {
      for (const k of keys) if (this.#pending.get(k) === applying) this.#pending.delete(k)
    }
    applying.then(done, done)
  }

  /** The apply in flight that carries this change, if any. */
  pendingFor (key: string): Promise<unknown> | undefined {
    return this.#pending.get(key)
  }

  get pendingSize (): number {
    return this.#pending.size
  }

  get size (): number {
    return this.#keys.size
  }
}
