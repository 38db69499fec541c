/**
 * Helpers shared by the store tests: a store in a temp dir that closes itself,
 * a seeded PRNG, and a dump of the state to compare stores with.
 */
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import type { StoreOptions } from '../../src/store/index.js'
import type { MessageState } from '../../src/types.js'
import { tempDir } from '../helpers/tmp.js'

interface T { teardown (fn: () => unknown): void }

let counter = 0

/** An open store in its own temp dir; closed when the test ends. */
export async function openStore (t: T, options: Partial<StoreOptions> = {}): Promise<Store> {
  const location = options.location ?? join(await tempDir(t), `store-${counter++}`)
  const store = new Store({ nodeId: 'node-a', durability: 'relaxed', ...options, location })
  await store.open()
  t.teardown(async () => { await store.close() })
  return store
}

/** mulberry32: small, fast, seeded; runs replay from their seed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

export function shuffle<T> (items: T[], random: () => number): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = out[i]
    out[i] = out[j]
    out[j] = tmp
  }
  return out
}

export async function allWinners (store: Store): Promise<MessageState[]> {
  const out: MessageState[] = []
  for await (const w of store.winners()) out.push(w)
  return out
}

/** What two replicas must agree on: winners (without local seq and time), unread tables and counts. */
export async function replicaState (store: Store, users: string[]): Promise<unknown> {
  const winners = (await allWinners(store)).map(w => [w.user, w.message, w.status, w.origin, w.ts])
  const unread: Record<string, { list: string[], count: number }> = {}
  for (const user of users) unread[user] = { list: await store.unread(user), count: await store.unreadCount(user) }
  return { winners, unread }
}
