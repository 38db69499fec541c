/**
 * A map with a size bound that forgets the least recently written entry
 * first. The store keeps winners and unread counts here so most writes need no
 * read before write; it is only ever filled with committed values, so a failed
 * batch leaves it correct. Reads do not refresh an entry (that cost more than
 * it saved in the ingest benchmark): every write sets its pairs again, so what
 * changes often stays.
 */
export class BoundedCache<V> {
  readonly #map = new Map<string, V>()
  readonly #max: number

  constructor (maxEntries: number) {
    this.#max = maxEntries
  }

  get size (): number {
    return this.#map.size
  }

  get (key: string): V | undefined {
    return this.#map.get(key)
  }

  set (key: string, value: V): void {
    // Delete first, so the entry moves to the young end (a Map iterates in insertion order).
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#evict()
  }

  /**
   * Forgets the oldest tenth at once: deleting one entry per insert from the
   * front of a Map makes every later `keys().next()` step over the deleted
   * slots, which made eviction the slowest part of a write.
   */
  #evict (): void {
    let count = Math.max(1, this.#map.size - this.#max + Math.floor(this.#max / 10))
    for (const key of this.#map.keys()) {
      this.#map.delete(key)
      if (--count === 0) break
    }
  }

  clear (): void {
    this.#map.clear()
  }
}
