/**
 * A map with a size bound that forgets the least recently used entry first.
 * The store keeps winners and unread counts here so most writes need no read
 * before write; it is only ever filled with committed values, so a failed
 * batch leaves it correct.
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
    const value = this.#map.get(key)
    if (value !== undefined) {
      // Move to the young end: Map iterates in insertion order.
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }

  set (key: string, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string)
  }

  clear (): void {
    this.#map.clear()
  }
}
