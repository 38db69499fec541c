import t from 'tap'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { messageHistory } from '../../src/admin/history.js'
import { HLC_UNITS_PER_MS } from '../../src/limits.js'
import { tempDir } from '../helpers/tmp.js'

/** Discarded changes: kept in the apply's own write, one per distinct change, purged with the log. */
const NOW = 1_800_000_000_000
const ts = (ms: number, logical = 0): number => ms * HLC_UNITS_PER_MS + logical

t.test('a stale change is kept with the winner it lost to; durable, deduplicated, purged with the log', async t => {
  let now = NOW
  const location = join(await tempDir(t), 'db')
  const open = async (): Promise<Store> => {
    const store = new Store({ location, nodeId: 'a', durability: 'sync', wallClock: () => now, monotonicClock: null })
    await store.open()
    return store
  }
  let store = await open()
  t.teardown(async () => { await store.close() })
  await store.applyRemote([{ user: 'u', message: 'm', status: 'unread', origin: 'c', ts: ts(NOW - 1_000) }], { from: 'c' })
  const stale = { user: 'u', message: 'm', status: 'read' as const, origin: 'b', ts: ts(NOW - 5_000, 3) }
  const result = await store.applyRemote([stale, { ...stale, message: 'other', ts: ts(NOW - 9_000) }], { from: 'b' })
  t.equal(result.stale, 1)
  t.equal(result.entered.length, 1)
  t.same(await store.discarded('u', 'm'), [{ status: 'read', origin: 'b', ts: stale.ts, localTime: NOW, from: 'b', winnerTs: ts(NOW - 1_000), winnerOrigin: 'c' }])

  const seq = store.lastSeq
  now += 10
  const onlyStale = await store.applyRemote([stale, { ...stale, origin: 'a.b-c_d', ts: ts(NOW - 4_000) }])
  t.same(onlyStale, { entered: [], stale: 2, duplicate: 0 })
  t.equal(store.lastSeq, seq, 'nothing entered')
  await store.applyRemote([{ user: 'u', message: 'm', status: 'unread', origin: 'c', ts: ts(NOW - 1_000) }], { from: 'c' })
  t.same((await store.discarded('u', 'm')).map(d => [d.origin, d.localTime, d.from]), [['a.b-c_d', NOW + 10, undefined], ['b', NOW + 10, undefined]],
    'the same change again overwrites its record; a duplicate of the winner adds none')

  await store.close()
  store = await open()
  t.equal((await store.discarded('u', 'm')).length, 2, 'a batch of only discards was written durably')
  t.same(await store.discarded('u', 'other'), [], 'another message has its own records')
  t.same(await store.discarded('u', 'm2'), [])

  const history = await messageHistory(store, 'u', 'm')
  t.same(history.changes.map(c => [c.outcome, c.origin, c.seq]), [['entered', 'c', 1], ['discarded', 'a.b-c_d', null], ['discarded', 'b', null]])
  t.match(history.changes[0]?.why, /no earlier status.*; the current status/)
  t.match(history.changes[2]?.why, /lost to the winner then, from c .*a timestamp 4000 ms later/)
  t.equal(history.changes[2]?.apparentOffsetMs, -5_010)
  t.equal(history.changes[2]?.originOffsetMs, null, 'no measured offset without a daemon')

  await store.purge(NOW + 5)
  t.equal((await store.discarded('u', 'm')).length, 2, 'records newer than the horizon stay')
  await store.purge(NOW + 11)
  t.same(await store.discarded('u', 'm'), [], 'purged with the log')
  t.equal((await messageHistory(store, 'u', 'm')).changes.length, 0)
})
