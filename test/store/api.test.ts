import t from 'tap'
import { join } from 'node:path'
import { MAX_BATCH_ENTRIES, MAX_PAGE_ENTRIES } from '../../src/limits.js'
import { packTimestamp } from '../../src/hlc.js'
import type { LogEntry } from '../../src/types.js'
import { Store } from '../../src/store/index.js'
import { allWinners, openStore } from './util.js'
import { tempDir } from '../helpers/tmp.js'

const NOW = 1_800_000_000_000

t.test('feed, log and unread page in order', async t => {
  const store = await openStore(t, { wallClock: () => NOW })
  await store.mark(Array.from({ length: 30 }, (_, i) => ({ user: i % 2 === 0 ? 'even' : 'odd', message: `m${String(i).padStart(2, '0')}`, status: 'unread' as const })))
  t.same((await store.feed(0, 5)).map(e => e.seq), [1, 2, 3, 4, 5])
  t.same((await store.feed(28, 5)).map(e => e.seq), [29, 30])
  t.same(await store.feed(30, 5), [])
  const log = await store.log('odd', { after: 10, limit: 3 })
  t.same(log.map(e => e.seq), [12, 14, 16])
  t.ok(log.every(e => e.user === 'odd' && e.originTime === e.localTime && e.from === undefined))
  t.same(await store.unread('even', { limit: 3 }), ['m00', 'm02', 'm04'])
  t.same(await store.unread('even', { after: 'm04', limit: 2 }), ['m06', 'm08'])
  t.same(await store.unread('even', { after: 'm050' }), ['m06', 'm08', 'm10', 'm12', 'm14', 'm16', 'm18', 'm20', 'm22', 'm24', 'm26', 'm28'])
  t.equal(await store.unreadCount('even'), 15)
  t.equal(await store.unreadCount('nobody'), 0)
  t.same(await store.unread('nobody'), [])
  t.equal(await store.get('even', 'nothing'), undefined)
  await t.rejects(store.feed(-1, 5), TypeError)
  await t.rejects(store.log('odd', { limit: 0 }), TypeError)
  await t.rejects(store.feed(0, 1.5), TypeError)
})

t.test('entries received from a peer show origin time, local time and the peer', async t => {
  const store = await openStore(t, { wallClock: () => NOW })
  const { entered } = await store.applyRemote([{ user: 'u', message: 'm', status: 'read', origin: 'far', ts: packTimestamp(NOW - 4_000, 3) }], { from: 'relay' })
  t.match(entered[0], { seq: 1, origin: 'far', from: 'relay', originTime: NOW - 4_000, localTime: NOW })
  t.same(await store.log('u'), entered)
  t.same(await store.feed(0, 10), entered)
  t.match(await store.get('u', 'm'), { status: 'read', origin: 'far', originTime: NOW - 4_000, localTime: NOW, seq: 1 })
})

t.test('getMany reads several winners of one user in the given order, each as get does', async t => {
  const location = join(await tempDir(t), 'store')
  const store = await openStore(t, { wallClock: () => NOW, location })
  await store.mark([{ user: 'u', message: 'a', status: 'read' }, { user: 'u', message: 'c', status: 'deleted' }, { user: 'v', message: 'b', status: 'unread' }])
  const many = await store.getMany('u', ['c', 'b', 'a', 'c'])
  t.same(many.map(s => s?.status), ['deleted', undefined, 'read', 'deleted'], 'b is another user\'s')
  t.same(many[2], await store.get('u', 'a'))
  t.same(await store.getMany('u', []), [])
  await t.rejects(store.getMany('u', ['ok', '']), { code: 'INVALID_MESSAGE' })
  await t.rejects(store.getMany('', ['a']), { code: 'INVALID_USER' })
  await t.rejects(store.getMany('u', Array.from({ length: MAX_PAGE_ENTRIES + 1 }, (_, i) => `m${i}`)), TypeError)
  // Just written, the winners come from the store's cache; after a reopen (cache empty) from disk: the same answers.
  await store.mark([{ user: 'u', message: 'a', status: 'unread' }])
  const fresh = await store.getMany('u', ['a', 'b', 'c'])
  t.same(fresh.map(s => s?.status), ['unread', undefined, 'deleted'], 'a write is read back at once')
  await store.close()
  const reopened = await openStore(t, { wallClock: () => NOW, location })
  t.same(await reopened.getMany('u', ['a', 'b', 'c']), fresh, 'the disk gives what the cache gave')
})

t.test('mark with skipUnchanged leaves out changes to the status a message already has', async t => {
  const store = await openStore(t, { wallClock: () => NOW })
  await store.mark([{ user: 'u', message: 'a', status: 'read' }, { user: 'u', message: 'b', status: 'unread' }])
  await store.applyRemote([{ user: 'u', message: 'c', status: 'deleted', origin: 'far', ts: packTimestamp(NOW - 1_000, 0) }])
  const entered = await store.mark([
    { user: 'u', message: 'a', status: 'read' }, // already read: left out
    { user: 'u', message: 'b', status: 'read' }, // unread → read
    { user: 'u', message: 'c', status: 'deleted' }, // a peer's winner with the same status: left out
    { user: 'u', message: 'd', status: 'unread' }, // no winner yet
    { user: 'u', message: 'd', status: 'unread' } // the same call's earlier change is the winner now
  ], { skipUnchanged: true })
  t.same(entered.map(e => `${e.message}:${e.status}`), ['b:read', 'd:unread'], 'only the changes that change something')
  t.same((await store.feed(3, 10)).map(e => e.seq), entered.map(e => e.seq), 'nothing else in the feed')
  t.equal((await store.get('u', 'c'))?.origin, 'far', 'the peer\'s winner stays')
  t.equal(await store.unreadCount('u'), 1, 'd unread, b read')
  t.same(await store.mark([{ user: 'u', message: 'a', status: 'read' }], { skipUnchanged: true }), [], 'a call with nothing to change enters nothing')
  t.equal(store.lastSeq, 5, 'and takes no seq')
  t.equal((await store.mark([{ user: 'u', message: 'a', status: 'read' }]))[0]?.seq, 6, 'without the option the same change is entered')
})

t.test('winners stream in key order and resume after a pair', async t => {
  const store = await openStore(t)
  await store.mark([
    { user: 'b', message: 'x', status: 'read' },
    { user: 'a', message: 'z', status: 'deleted' },
    { user: 'a', message: 'y', status: 'unread' },
    { user: 'a!', message: 'a', status: 'unread' }
  ])
  const all = (await allWinners(store)).map(w => `${w.user}/${w.message}/${w.status}`)
  t.same(all, ['a/y/unread', 'a/z/deleted', 'a!/a/unread', 'b/x/read'])
  const rest: string[] = []
  for await (const w of store.winners({ after: { user: 'a', message: 'z' } })) rest.push(`${w.user}/${w.message}`)
  t.same(rest, ['a!/a', 'b/x'])
  const fromMissing: string[] = []
  for await (const w of store.winners({ after: { user: 'a', message: 'yy' } })) fromMissing.push(`${w.user}/${w.message}`)
  t.same(fromMissing, ['a/z', 'a!/a', 'b/x'], 'resumes after a pair that does not exist')
})

t.test('cursors per peer are durable values', async t => {
  const store = await openStore(t)
  t.equal(await store.getCursor('peer-1'), 0)
  await store.setCursor('peer-1', 42)
  await store.setCursor('peer-2', 7)
  t.equal(await store.getCursor('peer-1'), 42)
  t.equal(await store.getCursor('peer-2'), 7)
  await t.rejects(store.setCursor('peer 1', 1), { code: 'INVALID_PEER' })
  await t.rejects(store.setCursor('peer-1', -1), TypeError)
})

t.test('bad input throws a coded error and writes nothing', async t => {
  const store = await openStore(t, { wallClock: () => NOW, maxClockSkewMs: 1_000 })
  await store.mark([{ user: 'u', message: 'm0', status: 'unread' }])
  const good = { user: 'u', message: 'm1', status: 'read' as const, origin: 'n2', ts: packTimestamp(NOW - 5) }
  const cases: Array<[string, unknown, string]> = [
    ['status', { ...good, status: 'seen' }, 'INVALID_STATUS'],
    ['user too long', { ...good, user: 'x'.repeat(257) }, 'INVALID_USER'],
    ['empty message', { ...good, message: '' }, 'INVALID_MESSAGE'],
    ['origin', { ...good, origin: 'n 2' }, 'INVALID_ORIGIN'],
    ['ts', { ...good, ts: -1 }, 'INVALID_TIMESTAMP'],
    ['ts not an integer', { ...good, ts: 1.5 }, 'INVALID_TIMESTAMP'],
    ['not an object', 'hello', 'INVALID_ENTRY'],
    ['too far ahead', { ...good, ts: packTimestamp(NOW + 1_001) }, 'CLOCK_SKEW']
  ]
  for (const [name, bad, code] of cases) {
    await t.rejects(store.applyRemote([good, bad as typeof good]), { code }, name)
  }
  await t.rejects(store.mark([{ user: 'u', message: 'm1', status: 'gone' as 'read' }]), { code: 'INVALID_STATUS' })
  await t.rejects(store.applyRemote([good], { from: 'bad peer' }), { code: 'INVALID_ORIGIN' })
  const tooMany = Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => ({ user: 'u', message: `m${i}`, status: 'read' as const }))
  await t.rejects(store.mark(tooMany), { code: 'BATCH_TOO_LARGE' })
  await t.rejects(store.mark('x' as unknown as []), TypeError)
  t.equal(store.lastSeq, 1, 'nothing was entered')
  t.equal((await store.feed(0, 10)).length, 1)
  t.equal(await store.get('u', 'm1'), undefined)
  t.ok(store.clock.last < packTimestamp(NOW + 1), 'a refused timestamp did not move the clock')
  t.same(await store.mark([]), [])
  t.same(await store.applyRemote([]), { entered: [], stale: 0, duplicate: 0 })
  t.throws(() => new Store({ location: '', nodeId: 'n' }), TypeError)
  t.throws(() => new Store({ location: 'x', nodeId: 'bad id' }), { code: 'INVALID_NODE_ID' })
  t.throws(() => new Store({ location: 'x', nodeId: 'n', durability: 'fast' as 'sync' }), TypeError)
  t.throws(() => new Store({ location: 'x', nodeId: 'n', retentionMs: -1 }), TypeError)
  t.throws(() => new Store({ location: 'x', nodeId: 'n', maxClockSkewMs: Number.NaN }), TypeError)
})

t.test('a refused call does not disturb calls grouped with it', async t => {
  const store = await openStore(t, { wallClock: () => NOW, maxClockSkewMs: 1_000 })
  const results = await Promise.allSettled([
    store.mark([{ user: 'u', message: 'a', status: 'unread' }]),
    store.applyRemote([{ user: 'u', message: 'b', status: 'unread', origin: 'n2', ts: packTimestamp(NOW + 60_000) }]),
    store.mark([{ user: 'u', message: 'c', status: 'unread' }])
  ])
  t.same(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.same(await store.unread('u'), ['a', 'c'])
  t.same((await store.feed(0, 10)).map(e => e.seq), [1, 2])
})

t.test('concurrent marks are group-committed, resolve once durable and emit entered in seq order', async t => {
  const store = await openStore(t, { durability: 'sync' })
  t.equal(store.durability, 'sync')
  const events: LogEntry[][] = []
  store.on('entered', (entries: LogEntry[]) => events.push(entries))
  const results = await Promise.all(Array.from({ length: 64 }, async (_, i) => await store.mark([{ user: `u${i % 4}`, message: `m${i}`, status: 'unread' }])))
  const seqs = results.map(r => r[0].seq).sort((a, b) => a - b)
  t.same(seqs, Array.from({ length: 64 }, (_, i) => i + 1), 'every call got its own seq')
  t.ok(events.length < 64, `${events.length} batches for 64 calls`)
  const emitted = events.flat().map(e => e.seq)
  t.same(emitted, seqs, 'every entry emitted once, in seq order')
  for (let u = 0; u < 4; u++) t.equal(await store.unreadCount(`u${u}`), 16)
})

t.test('a listener that throws does not break the write queue', async t => {
  const store = await openStore(t)
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown): void => { uncaught.push(err) }
  const listeners = process.listeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  process.on('uncaughtException', onUncaught)
  t.teardown(() => {
    process.off('uncaughtException', onUncaught)
    for (const l of listeners) process.on('uncaughtException', l)
  })
  store.once('entered', () => { throw new Error('listener bug') })
  await store.mark([{ user: 'u', message: 'a', status: 'read' }])
  const [second] = await store.mark([{ user: 'u', message: 'b', status: 'read' }])
  t.equal(second.seq, 2)
  await new Promise(resolve => setImmediate(resolve))
  t.equal((uncaught[0] as Error)?.message, 'listener bug')
})

t.test('calls on a store that is not open fail with STORE_NOT_OPEN', async t => {
  const store = new Store({ location: 'never-opened', nodeId: 'n1' })
  await t.rejects(store.mark([{ user: 'u', message: 'm', status: 'read' }]), { code: 'STORE_NOT_OPEN' })
  await t.rejects(store.unreadCount('u'), { code: 'STORE_NOT_OPEN' })
  t.throws(() => store.winners(), { code: 'STORE_NOT_OPEN' })
  await store.close()
  const open = await openStore(t)
  const pending = open.mark([{ user: 'u', message: 'm', status: 'unread' }])
  await open.close()
  t.equal((await pending)[0].seq, 1, 'close waits for queued writes')
  await t.rejects(open.get('u', 'm'), { code: 'STORE_NOT_OPEN' })
})
