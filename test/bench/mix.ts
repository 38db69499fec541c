/**
 * The benchmarks' realistic mix of changes, generated on the fly (never held in
 * memory as a whole): 60 % deliveries of new messages as `unread`, 30 % reads and
 * 10 % deletions of earlier ones (uniformly chosen), spread over `users` users.
 * Deterministic for a seed, so two runs and two processes see the same changes.
 */
import type { LocalChange, Status } from '../../src/types.js'
import { Prng } from '../helpers/prng.js'

export class ChangeMix {
  readonly #random: Prng
  #made = 0
  readonly #users: number
  readonly #seed: number

  constructor (users: number, seed: number) {
    this.#users = users
    this.#seed = seed
    this.#random = new Prng(seed)
  }

  next (): LocalChange {
    const i = this.#made++
    const r = this.#random.next()
    const n = r < 0.6 || i === 0 ? i : Math.floor(this.#random.next() * i)
    const status: Status = r < 0.6 ? 'unread' : r < 0.9 ? 'read' : 'deleted'
    return { user: `user${n % this.#users}@example.org`, message: `<${n}.${this.#seed}@mail.example.org>`, status }
  }

  take (count: number): LocalChange[] {
    const out: LocalChange[] = []
    for (let i = 0; i < count; i++) out.push(this.next())
    return out
  }
}
