import t from 'tap'
import { packTimestamp, physicalMs } from '../../src/hlc.js'
import type { Change } from '../../src/types.js'
import { openStore } from './util.js'

const NOW = 1_800_000_000_000
const at = (ms: number, logical = 0): number => packTimestamp(ms, logical)
const change = (status: Change['status'], origin: string, ts: number): Change => ({ user: 'u', message: 'm', status, origin, ts })

t.test('precedence table', async t => {
  const cases: Array<{ name: string, first: Change, second: Change, entered: boolean, stale: number, duplicate: number, winner: Change }> = [
    { name: 'later ts wins', first: change('unread', 'n1', at(NOW - 10)), second: change('read', 'n1', at(NOW - 5)), entered: true, stale: 0, duplicate: 0, winner: change('read', 'n1', at(NOW - 5)) },
    { name: 'later logical counter wins', first: change('unread', 'n2', at(NOW - 10, 1)), second: change('read', 'n1', at(NOW - 10, 2)), entered: true, stale: 0, duplicate: 0, winner: change('read', 'n1', at(NOW - 10, 2)) },
    { name: 'older ts is stale', first: change('read', 'n1', at(NOW - 5)), second: change('unread', 'n9', at(NOW - 10)), entered: false, stale: 1, duplicate: 0, winner: change('read', 'n1', at(NOW - 5)) },
    { name: 'equal ts: greater origin wins', first: change('read', 'n1', at(NOW - 5)), second: change('deleted', 'n2', at(NOW - 5)), entered: true, stale: 0, duplicate: 0, winner: change('deleted', 'n2', at(NOW - 5)) },
    { name: 'equal ts: smaller origin is stale', first: change('read', 'n2', at(NOW - 5)), second: change('unread', 'n1', at(NOW - 5)), entered: false, stale: 1, duplicate: 0, winner: change('read', 'n2', at(NOW - 5)) },
    { name: 'origin compares as strings, not numbers', first: change('read', 'n10', at(NOW - 5)), second: change('unread', 'n9', at(NOW - 5)), entered: true, stale: 0, duplicate: 0, winner: change('unread', 'n9', at(NOW - 5)) },
    { name: 'same change again is a duplicate', first: change('read', 'n1', at(NOW - 5)), second: change('read', 'n1', at(NOW - 5)), entered: false, stale: 0, duplicate: 1, winner: change('read', 'n1', at(NOW - 5)) }
  ]
  for (const c of cases) {
    t.test(c.name, async t => {
      const store = await openStore(t, { wallClock: () => NOW })
      const first = await store.applyRemote([c.first], { from: 'peer' })
      t.equal(first.entered.length, 1)
      const second = await store.applyRemote([c.second], { from: 'peer' })
      t.equal(second.entered.length, c.entered ? 1 : 0, 'entered')
      t.equal(second.stale, c.stale, 'stale')
      t.equal(second.duplicate, c.duplicate, 'duplicate')
      const state = await store.get('u', 'm')
      t.match(state, { status: c.winner.status, origin: c.winner.origin, ts: c.winner.ts })
      t.equal(store.lastSeq, c.entered ? 2 : 1, 'a discarded change takes no seq')
      t.equal((await store.log('u')).length, c.entered ? 2 : 1)
    })
  }
})

t.test('within one batch, later changes compare against earlier ones', async t => {
  const store = await openStore(t, { wallClock: () => NOW })
  const result = await store.applyRemote([
    change('unread', 'n1', at(NOW - 10)),
    change('read', 'n1', at(NOW - 8)),
    change('deleted', 'n1', at(NOW - 9)),
    change('read', 'n1', at(NOW - 8))
  ])
  t.same(result.entered.map(e => e.status), ['unread', 'read'])
  t.equal(result.stale, 1)
  t.equal(result.duplicate, 1)
  t.same(result.entered.map(e => e.seq), [1, 2])
  t.equal((await store.get('u', 'm'))?.status, 'read')
  t.equal(await store.unreadCount('u'), 0)
})

t.test('a local change after seeing a remote one wins, even with the local wall clock behind', async t => {
  // Our wall clock is 30 s behind the peer's; the peer's change is stamped in its time.
  const store = await openStore(t, { wallClock: () => NOW - 30_000 })
  const remote = change('read', 'peer', at(NOW - 1_000, 7))
  const applied = await store.applyRemote([remote], { from: 'peer' })
  t.equal(applied.entered.length, 1)
  const [local] = await store.mark([{ user: 'u', message: 'm', status: 'unread' }])
  t.ok(local.ts > remote.ts, 'the local ts orders after the one seen')
  t.equal(physicalMs(local.ts), NOW - 1_000, 'the HLC carries the physical time it saw')
  t.equal((await store.get('u', 'm'))?.status, 'unread')
  // And the peer, receiving it, would enter it: it beats its own change.
  const other = await openStore(t, { nodeId: 'peer', wallClock: () => NOW })
  await other.applyRemote([remote])
  const back = await other.applyRemote([{ user: local.user, message: local.message, status: local.status, origin: local.origin, ts: local.ts }])
  t.equal(back.entered.length, 1)
  t.equal((await other.get('u', 'm'))?.status, 'unread')
})

t.test('mark always enters and is stamped by this node', async t => {
  let wall = NOW
  const store = await openStore(t, { nodeId: 'node-a', wallClock: () => wall })
  await store.applyRemote([change('read', 'zzz', at(NOW + 5_000))])
  wall = NOW - 1
  const [entry] = await store.mark([{ user: 'u', message: 'm', status: 'deleted' }])
  t.equal(entry.origin, 'node-a')
  t.equal(entry.from, undefined)
  t.ok(entry.ts > at(NOW + 5_000))
  t.equal(entry.localTime, entry.originTime, 'on the origin, local time is the origin time')
  t.equal((await store.get('u', 'm'))?.status, 'deleted')
})
