import t from 'tap'
import { packTimestamp } from '../../src/hlc.js'
import { allWinners, openStore } from './util.js'

const NOW = 1_800_000_000_000

t.test('purge removes old log and feed entries; winners stay, so a late old change is still discarded', async t => {
  let wall = NOW
  const store = await openStore(t, { wallClock: () => wall, monotonicClock: null, retentionMs: 1_000 })
  const [old] = await store.mark([{ user: 'u', message: 'm1', status: 'unread' }])
  await store.mark([{ user: 'u', message: 'm1', status: 'read' }, { user: 'v', message: 'm2', status: 'unread' }])
  wall = NOW + 5_000
  const recent = await store.mark([{ user: 'u', message: 'm3', status: 'unread' }])
  const winnersBefore = await allWinners(store)

  const result = await store.purgeExpired()
  t.same(result, { removed: 3, oldestSeq: 4 })
  t.equal(store.oldestSeq, 4)
  t.same((await store.feed(0, 100)).map(e => e.seq), [4])
  t.same((await store.log('u')).map(e => e.seq), [recent[0].seq], 'the log shows no purged entry')
  t.same(await store.log('v'), [])
  t.same(await allWinners(store), winnersBefore, 'winners untouched')
  t.same(await store.unread('v'), ['m2'])
  t.equal(await store.unreadCount('v'), 1)

  // The first change arrives again, late, from a peer: the winner still rules it out.
  const late = await store.applyRemote([{ user: old.user, message: old.message, status: old.status, origin: old.origin, ts: old.ts }])
  t.same({ entered: late.entered.length, stale: late.stale, duplicate: late.duplicate }, { entered: 0, stale: 1, duplicate: 0 })
  t.equal((await store.get('u', 'm1'))?.status, 'read')

  const again = await store.purge(NOW - 1)
  t.same(again, { removed: 0, oldestSeq: 4 }, 'nothing more to purge')
})

t.test('purging everything leaves oldestSeq at lastSeq + 1, and new entries continue the seqs', async t => {
  const store = await openStore(t, { wallClock: () => NOW })
  const changes = Array.from({ length: 2_500 }, (_, i) => ({ user: `u${i % 7}`, message: `m${i}`, status: 'unread' as const }))
  await store.mark(changes)
  t.equal(store.lastSeq, 2_500)
  // 2,500 stamps in one ms carry the HLC's logical counter into the next ms or two.
  const result = await store.purge(NOW + 10)
  t.same(result, { removed: 2_500, oldestSeq: 2_501 }, 'several chunks')
  t.same(await store.feed(0, 10), [])
  t.same(await store.log('u3'), [])
  t.equal(await store.unreadCount('u3'), 357)
  const { entered } = await store.applyRemote([{ user: 'u0', message: 'x', status: 'read', origin: 'n2', ts: packTimestamp(NOW - 5) }])
  t.equal(entered[0].seq, 2_501)
  t.equal(store.oldestSeq, 2_501)
  t.same((await store.feed(0, 10)).map(e => e.seq), [2_501])
})

t.test('after the wall clock went back, purge stops at the first entry too young, keeping the feed contiguous', async t => {
  let wall = NOW
  const jumps: unknown[] = []
  // A monotonic clock standing still: every move of `wall` is a step of the wall clock.
  const store = await openStore(t, { wallClock: () => wall, monotonicClock: () => 0 })
  store.on('clock-jump', jump => jumps.push(jump))
  const remote = (message: string): { user: string, message: string, status: 'read', origin: string, ts: number } =>
    ({ user: 'u', message, status: 'read', origin: 'n2', ts: packTimestamp(NOW - 100_000) })
  await store.applyRemote([remote('a')]) // localTime NOW
  wall = NOW + 10_000
  await store.applyRemote([remote('b')]) // localTime NOW + 10 s
  wall = NOW - 5_000
  await store.applyRemote([remote('c')]) // localTime NOW - 5 s: the clock went back
  t.same(jumps, [
    { fromMs: NOW, toMs: NOW + 10_000, correctionMs: -10_000 },
    { fromMs: NOW + 10_000, toMs: NOW - 5_000, correctionMs: 0 }
  ], 'the step forward is compensated, the step back cancels the compensation')
  const result = await store.purge(NOW + 1)
  t.same(result, { removed: 1, oldestSeq: 2 }, 'entry 3 is older than the horizon but waits behind entry 2')
  t.same((await store.feed(0, 10)).map(e => e.seq), [2, 3])
  wall = NOW - 4_999
  await store.applyRemote([remote('d')])
  t.equal(jumps.length, 2, 'a step within CLOCK_JUMP_MS is no jump')
})

t.test('purges running between writes keep the feed contiguous and the logs in step', async t => {
  let wall = NOW
  const store = await openStore(t, { wallClock: () => wall, monotonicClock: null })
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; i < 40; i++) {
      wall += 1
      await store.mark(Array.from({ length: 30 }, (_, j) => ({ user: `u${(i + j) % 5}`, message: `w${w}-${i}-${j}`, status: 'unread' as const })))
    }
  })
  const purges = (async () => {
    for (let i = 0; i < 20; i++) await store.purge(wall - 5)
  })()
  await Promise.all([...writers, purges])
  await store.purge(wall - 5)
  t.ok(store.oldestSeq > 1_000, `purged up to seq ${store.oldestSeq - 1}`)
  const feed = await store.feed(0, 10_000)
  t.equal(feed.length, store.lastSeq - store.oldestSeq + 1, 'the feed holds exactly oldestSeq..lastSeq')
  t.same(feed.map(e => e.seq), Array.from({ length: feed.length }, (_, i) => store.oldestSeq + i))
  let logged = 0
  for (let u = 0; u < 5; u++) {
    const log = await store.log(`u${u}`)
    logged += log.length
    t.ok(log.every(e => e.seq >= store.oldestSeq), `no purged entry in the log of u${u}`)
  }
  t.equal(logged, feed.length, 'every feed entry is in exactly one user log')
  t.equal(store.lastSeq, 4 * 40 * 30)
  let unread = 0
  for (let u = 0; u < 5; u++) unread += await store.unreadCount(`u${u}`)
  t.equal(unread, 4 * 40 * 30, 'purge never touches the unread table')
})
