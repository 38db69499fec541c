/**
 * The one seeded PRNG of the tests (mulberry32), so that a run is a pure function of its
 * seed: the same seed gives the same fault schedule, workload and inputs. Not for
 * anything but tests.
 */
export class Prng {
  #state: number

  constructor (readonly seed: number) {
    if (!Number.isSafeInteger(seed)) throw new TypeError('seed must be a safe integer')
    // Fold the seed into 32 bits; 0 is a fine state for mulberry32.
    this.#state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0
  }

  /** A float in [0, 1). */
  next (): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }

  /** An integer in [min, max], both inclusive. */
  int (min: number, max: number): number {
    if (max < min) throw new TypeError(`empty range ${min}..${max}`)
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** True with probability p. */
  chance (p: number): boolean {
    return this.next() < p
  }

  pick<T> (items: readonly T[]): T {
    if (items.length === 0) throw new TypeError('cannot pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T> (items: readonly T[]): T[] {
    return shuffle(items, () => this.next())
  }

  /** An independent generator derived from this one, so streams do not disturb each other. */
  fork (): Prng {
    return new Prng(Math.floor(this.next() * 2 ** 32))
  }
}

/** The generator as a plain function returning floats in [0, 1). */
export function prng (seed: number): () => number {
  const p = new Prng(seed)
  return () => p.next()
}

/** A shuffled copy of `items` (Fisher-Yates), drawing from `random` (floats in [0, 1)). */
export function shuffle<T> (items: readonly T[], random: () => number): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = out[i] as T
    out[i] = out[j] as T
    out[j] = tmp
  }
  return out
}

/** A fresh random seed for a run that was not given one. */
export function randomSeed (): number {
  return Math.floor(Math.random() * 2 ** 32)
}
