import t from 'tap'
import { join } from 'node:path'
import { packTimestamp } from '../../src/hlc.js'
import type { LogEntry } from '../../src/types.js'
import { RecentFeed } from '../../src/store/recent-feed.js'
import { openStore } from './util.js'
import { tempDir } from '../helpers/tmp.js'

const NOW = 1_800_000_000_000
const entry = (seq: number): LogEntry => ({ seq, user: 'u', message: `m${seq}`, status: 'read', origin: 'a', ts: packTimestamp(NOW, seq), originTime: NOW, localTime: NOW })
const seqs = (entries: LogEntry[] | undefined): number[] | undefined => entries?.map(e => e.seq)

t.test('the ring serves the newest entries whole, and nothing it does not hold', async t => {
  const ring = new RecentFeed(4)
  ring.reset(0)
  t.same(ring.after(0, 10, 1), [], 'empty: nothing after the last seq')
  ring.committed([1, 2, 3, 4, 5, 6].map(entry))
  t.equal(ring.after(0, 10, 1), undefined, 'seqs 1 and 2 fell out: the disk has them')
  t.equal(ring.after(1, 10, 1), undefined, 'seq 2 too')
  t.same(seqs(ring.after(2, 10, 1)), [3, 4, 5, 6], 'the last four')
  t.same(seqs(ring.after(3, 2, 1)), [4, 5], 'a limit')
  t.same(ring.after(6, 10, 1), [], 'nothing after the last seq')
  t.equal(ring.after(3, 10, 5), undefined, 'seq 4 was purged: the disk decides')
  t.same(seqs(ring.after(4, 10, 5)), [5, 6], 'from the oldest seq on, the ring serves')
  ring.committed([entry(9)])
  t.same(ring.after(8, 10, 1), [entry(9)], 'a gap (never expected) starts the ring afresh')
  t.equal(ring.after(6, 10, 1), undefined, 'and nothing before it is served')
  ring.reset(20)
  t.same(ring.after(20, 10, 1), [], 'after a reset: nothing yet')
  t.equal(ring.after(19, 10, 1), undefined, 'and nothing from before')
})

t.test('feed() gives from memory exactly what the disk gives', async t => {
  const location = join(await tempDir(t), 'store')
  const store = await openStore(t, { wallClock: () => NOW, location })
  await store.mark(Array.from({ length: 20 }, (_, i) => ({ user: `u${i % 3}`, message: `m${i}`, status: 'unread' as const })))
  await store.applyRemote(Array.from({ length: 10 }, (_, i) => ({ user: 'w', message: `r${i}`, status: 'deleted' as const, origin: 'far', ts: packTimestamp(NOW - 1_000, i) })), { from: 'relay' })
  await store.mark([{ user: 'u0', message: 'm0', status: 'read' }])
  const queries: Array<[number, number]> = []
  for (let after = 0; after <= store.lastSeq + 1; after++) for (const limit of [1, 7, 100]) queries.push([after, limit])
  const fromMemory = await Promise.all(queries.map(async ([after, limit]) => await store.feed(after, limit)))
  await store.close()
  const reopened = await openStore(t, { wallClock: () => NOW, location })
  const fromDisk = await Promise.all(queries.map(async ([after, limit]) => await reopened.feed(after, limit)))
  t.same(fromMemory, fromDisk, `${queries.length} reads: the same entries, fields and order`)
  t.equal(fromDisk[0]?.length, 1, 'the reads are not all empty')
  t.equal(fromMemory[2]?.filter(e => e.from === 'relay').length, 10, 'entries from a peer keep their peer')
  await t.rejects(reopened.feed(-1, 5), TypeError, 'bad arguments still throw')
  await t.rejects(reopened.feed(0, 0), TypeError)
  const more = await reopened.mark([{ user: 'u1', message: 'new', status: 'read' }])
  t.same(await reopened.feed(reopened.lastSeq - 1, 10), more, 'after a reopen, new entries are served')
})
