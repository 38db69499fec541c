import t from 'tap'
import { packTimestamp } from '../../src/hlc.js'
import type { Change, Status } from '../../src/types.js'
import { openStore, prng, replicaState, shuffle } from './util.js'

const NOW = 1_800_000_000_000
const USERS = ['alice', 'a!b', 'a', 'bob\u{1F600}']
const MESSAGES = 25
const ORIGINS = ['n1', 'n2', 'n3']
const STATUSES: Status[] = ['read', 'unread', 'deleted']
const CHANGES = 1_000
const PERMUTATIONS = 50

/**
 * 1,000 changes over a few users and messages, with a narrow ts range so that
 * equal timestamps (broken by origin) and exact duplicates are common.
 */
function changes (random: () => number): Change[] {
  const out: Change[] = []
  while (out.length < CHANGES) {
    if (out.length > 0 && random() < 0.1) {
      out.push({ ...out[Math.floor(random() * out.length)] })
      continue
    }
    out.push({
      user: USERS[Math.floor(random() * USERS.length)],
      message: `msg-${Math.floor(random() * MESSAGES)}`,
      status: STATUSES[Math.floor(random() * STATUSES.length)],
      origin: ORIGINS[Math.floor(random() * ORIGINS.length)],
      ts: packTimestamp(NOW - 1_000 + Math.floor(random() * 40), Math.floor(random() * 3))
    })
  }
  return out
}

/** The expected winners, straight from the rule: the greatest (ts, origin) per pair. */
function model (all: Change[]): Map<string, Change> {
  const winners = new Map<string, Change>()
  for (const c of all) {
    const id = JSON.stringify([c.user, c.message])
    const w = winners.get(id)
    if (w === undefined || c.ts > w.ts || (c.ts === w.ts && c.origin > w.origin)) winners.set(id, c)
  }
  return winners
}

t.test('the same changes in 50 random orders and batchings give identical state', async t => {
  const seed = 20_261_127
  const random = prng(seed)
  const all = changes(random)
  const expected = model(all)
  let reference: unknown
  for (let p = 0; p < PERMUTATIONS; p++) {
    const store = await openStore(t, { wallClock: () => NOW })
    const order = shuffle(all, random)
    let entered = 0
    let discarded = 0
    for (let i = 0; i < order.length;) {
      const size = 1 + Math.floor(random() * 120)
      const result = await store.applyRemote(order.slice(i, i + size), { from: 'n1' })
      entered += result.entered.length
      discarded += result.stale + result.duplicate
      i += size
    }
    t.equal(entered + discarded, CHANGES)
    const state = await replicaState(store, USERS)
    if (p === 0) {
      reference = state
      const winners = (state as { winners: unknown[][] }).winners
      t.equal(winners.length, expected.size, 'one winner per pair')
      for (const [user, message, status, origin, ts] of winners) {
        const want = expected.get(JSON.stringify([user, message]))
        t.same([status, origin, ts], [want?.status, want?.origin, want?.ts], 'winner as the rule says')
      }
    } else if (!t.same(state, reference, `permutation ${p} (seed ${seed})`)) {
      break
    }
    await store.close()
  }
})
