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
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string)
  }

  clear (): void {
    this.#map.clear()
  }
}
