/**
 * Lazily persisted replication state (src/replication/lazy-persist.ts): a stream of
 * changes costs a few writes, the latest value lands last, and a stop writes at once.
 */
import t from 'tap'
import { LazyPersist } from '../../src/replication/lazy-persist.js'
import { PeerCursor } from '../../src/replication/peer-cursor.js'
import { waitFor } from '../helpers/wait.js'

/** A value and a persister whose writes are counted; each write records the value it saw. */
function counted (minIntervalMs: number): { set: (v: number) => void, written: number[], persist: LazyPersist } {
  let value = 0
  const written: number[] = []
  const persist = new LazyPersist(async () => {
    const v = value
    await new Promise(resolve => setImmediate(resolve))
    written.push(v)
  }, minIntervalMs)
  return { set: v => { value = v; persist.changed() }, written, persist }
}

t.test('the first change is written at once; a stream of them waits for the interval, then flush writes the latest', async t => {
  const { set, written, persist } = counted(60_000)
  set(1)
  await waitFor(() => written.length === 1, { what: 'the first write' })
  t.same(written, [1], 'written without waiting for the interval')
  for (let v = 2; v <= 50; v++) set(v)
  await new Promise(resolve => setImmediate(resolve))
  t.same(written, [1], 'later changes wait out the interval')
  await persist.flush()
  t.same(written, [1, 50], 'one more write, of the latest value')
  await persist.flush()
  t.same(written, [1, 50], 'nothing left to write')
})

t.test('with no interval, changes during a write coalesce into one more write', async t => {
  const { set, written, persist } = counted(0)
  set(1)
  for (let v = 2; v <= 20; v++) set(v)
  await persist.flush()
  t.ok(written.length <= 2, `${written.length} writes for 20 changes`)
  t.equal(written[written.length - 1], 20, 'the latest value lands last')
})

t.test('after the interval, the pending value is written without a flush', async t => {
  const { set, written } = counted(5)
  set(1)
  await waitFor(() => written.length === 1, { what: 'the first write' })
  set(2)
  await waitFor(() => written.includes(2), { what: 'the deferred write' })
  t.same(written, [1, 2])
})

t.test('a failed write is not retried; the next change writes again', async t => {
  let fail = true
  let writes = 0
  const persist = new LazyPersist(async () => {
    writes++
    if (fail) throw new Error('store closing')
  }, 0)
  persist.changed()
  await persist.flush()
  t.equal(writes, 1, 'tried once')
  fail = false
  persist.changed()
  await persist.flush()
  t.equal(writes, 2, 'written with the next change')
})

t.test('a peer cursor advanced by a stream of acks is written a few times, and its latest value on stop', async t => {
  const writes: number[] = []
  const store = {
    getCursor: async () => 0,
    setCursor: async (_peer: string, seq: number) => { writes.push(seq) }
  }
  const cursor = new PeerCursor(store, 'b')
  await cursor.load()
  for (let seq = 1; seq <= 1_000; seq++) cursor.advance(seq)
  await cursor.idle()
  t.equal(cursor.value, 1_000)
  t.ok(writes.length <= 2, `${writes.length} cursor writes for 1,000 acks`)
  t.equal(writes[writes.length - 1], 1_000, 'the last ack is on disk after idle()')
})
