/**
 * Helpers shared by the store tests: a store in a temp dir that closes itself,
 * the seeded PRNG, and a dump of the state to compare stores with.
 */
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import type { StoreOptions } from '../../src/store/index.js'
import type { MessageState } from '../../src/types.js'
import type { Teardown as T } from '../helpers/teardown.js'
import { tempDir } from '../helpers/tmp.js'

let counter = 0

/** An open store in its own temp dir; closed when the test ends. */
export async function openStore (t: T, options: Partial<StoreOptions> = {}): Promise<Store> {
  const location = options.location ?? join(await tempDir(t), `store-${counter++}`)
  const store = new Store({ nodeId: 'node-a', durability: 'relaxed', ...options, location })
  await store.open()
  t.teardown(async () => { await store.close() })
  return store
}

/** The tests' one seeded generator (test/helpers/prng.ts): runs replay from their seed. */
export { prng, shuffle } from '../helpers/prng.js'

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
