import type { Change } from '../types.js'

/** What makes a change the same change: its origin's stamp and what it is about. */
export type ChangeIdentity = Pick<Change, 'ts' | 'origin' | 'user' | 'message'>

interface Slot<V> {
  readonly id: ChangeIdentity
  value: V
  next: Slot<V> | undefined
}

function same (a: ChangeIdentity, b: ChangeIdentity): boolean {
  return a.ts === b.ts && a.origin === b.origin && a.user === b.user && a.message === b.message
}

/**
 * Values by a change's exact identity, hashed by its timestamp alone and compared in full
 * only within a timestamp. A string key of all four parts cost a catch-up's receiver more
 * than a tenth of its main thread, built and hashed twice per change (docs/benchmarks.md);
 * timestamps of different changes rarely coincide, so the chains stay one slot long.
 */
export class ByIdentity<V> {
  readonly #byTs = new Map<number, Slot<V>>()
  #size = 0

  get (id: ChangeIdentity): V | undefined {
    for (let s = this.#byTs.get(id.ts); s !== undefined; s = s.next) if (same(s.id, id)) return s.value
    return undefined
  }

  has (id: ChangeIdentity): boolean {
    for (let s = this.#byTs.get(id.ts); s !== undefined; s = s.next) if (same(s.id, id)) return true
    return false
  }

  set (id: ChangeIdentity, value: V): void {
    const first = this.#byTs.get(id.ts)
    for (let s = first; s !== undefined; s = s.next) {
      if (same(s.id, id)) {
        s.value = value
        return
      }
    }
    this.#byTs.set(id.ts, { id, value, next: first })
    this.#size++
  }

  /** Forgets `id`; with `only`, only while it still maps to that value. */
  delete (id: ChangeIdentity, only?: V): void {
    let before: Slot<V> | undefined
    for (let s = this.#byTs.get(id.ts); s !== undefined; before = s, s = s.next) {
      if (!same(s.id, id)) continue
      if (only !== undefined && s.value !== only) return
      if (before !== undefined) before.next = s.next
      else if (s.next !== undefined) this.#byTs.set(id.ts, s.next)
      else this.#byTs.delete(id.ts)
      this.#size--
      return
    }
  }

  get size (): number {
    return this.#size
  }
}
