import t from 'tap'
import { packTimestamp } from '../../src/hlc.js'
import type { Status } from '../../src/types.js'
import { allWinners, openStore, prng } from './util.js'

const NOW = 1_800_000_000_000
const USERS = ['u1', 'u2', 'u1\u{1F600}', 'u1!x']
const STATUSES: Status[] = ['read', 'unread', 'deleted']

t.test('after random operations, unread tables and counts equal what the winners say', async t => {
  let wall = NOW
  const store = await openStore(t, { wallClock: () => wall })
  const random = prng(42)
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  for (let round = 0; round < 60; round++) {
    wall += Math.floor(random() * 5)
    const size = 1 + Math.floor(random() * 60)
    const kind = random()
    if (kind < 0.45) {
      await store.mark(Array.from({ length: size }, () => ({ user: pick(USERS), message: `m${Math.floor(random() * 40)}`, status: pick(STATUSES) })))
    } else if (kind < 0.9) {
      await store.applyRemote(Array.from({ length: size }, () => ({
        user: pick(USERS),
        message: `m${Math.floor(random() * 40)}`,
        status: pick(STATUSES),
        origin: pick(['n1', 'n2']),
        ts: packTimestamp(wall - 20 + Math.floor(random() * 40), Math.floor(random() * 4))
      })), { from: 'n1' })
    } else {
      await store.purge(wall - Math.floor(random() * 10))
    }
  }
  const winners = await allWinners(store)
  t.ok(winners.length > 100, `plenty of winners (${winners.length})`)
  for (const user of USERS) {
    const expected = winners.filter(w => w.user === user && w.status === 'unread').map(w => w.message).sort()
    const unread = (await store.unread(user)).sort()
    t.same(unread, expected, `unread table of ${user}`)
    t.equal(await store.unreadCount(user), expected.length, `count of ${user}`)
  }
})
