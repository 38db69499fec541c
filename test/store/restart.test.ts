import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { Store } from '../../src/store/index.js'
import { isMarksyncError } from '../../src/errors.js'
import { packTimestamp } from '../../src/hlc.js'
import { tempDir } from '../helpers/tmp.js'
import { allWinners } from './util.js'

const NOW = 1_800_000_000_000

t.test('close and reopen keeps everything; the HLC never goes backwards', async t => {
  const location = join(await tempDir(t), 'db')
  let wall = NOW
  const first = new Store({ location, nodeId: 'node-a', wallClock: () => wall })
  await first.open()
  await first.mark([{ user: 'u', message: 'm1', status: 'unread' }, { user: 'u', message: 'm2', status: 'unread' }])
  await first.applyRemote([{ user: 'u', message: 'm3', status: 'unread', origin: 'node-b', ts: packTimestamp(NOW + 20_000) }], { from: 'node-b' })
  await first.mark([{ user: 'u', message: 'm1', status: 'read' }])
  await first.setCursor('node-b', 3)
  const lastTs = first.clock.last
  const before = { winners: await allWinners(first), feed: await first.feed(0, 100), log: await first.log('u'), unread: await first.unread('u') }
  await first.close()
  await first.close()

  // The wall clock is now an hour behind: the clock must still resume after what it issued.
  wall = NOW - 3_600_000
  const second = new Store({ location, nodeId: 'node-a', wallClock: () => wall })
  await second.open()
  t.teardown(async () => { await second.close() })
  t.equal(second.lastSeq, 4)
  t.equal(second.oldestSeq, 1)
  t.equal(second.clock.last, lastTs)
  t.same({ winners: await allWinners(second), feed: await second.feed(0, 100), log: await second.log('u'), unread: await second.unread('u') }, before)
  t.equal(await second.unreadCount('u'), 2)
  t.equal(await second.getCursor('node-b'), 3)
  const [entry] = await second.mark([{ user: 'u', message: 'm2', status: 'read' }])
  t.ok(entry.ts > lastTs, 'a timestamp after restart is greater than every one before')
  t.equal(entry.seq, 5, 'seqs continue without a gap or reuse')
})

t.test('a timestamp taken from the clock outside a write is persisted on close', async t => {
  const location = join(await tempDir(t), 'db')
  const first = new Store({ location, nodeId: 'node-a', wallClock: () => NOW })
  await first.open()
  const issued = first.clock.now()
  await first.close()
  const second = new Store({ location, nodeId: 'node-a', wallClock: () => NOW - 1_000 })
  await second.open()
  t.teardown(async () => { await second.close() })
  t.ok(second.clock.now() > issued)
})

t.test('a store opens only under its own node id', async t => {
  const location = join(await tempDir(t), 'db')
  const first = new Store({ location, nodeId: 'node-a' })
  await first.open()
  await first.close()
  const other = new Store({ location, nodeId: 'node-b' })
  await t.rejects(other.open(), { code: 'NODE_ID_MISMATCH' })
  await t.rejects(other.mark([{ user: 'u', message: 'm', status: 'read' }]), { code: 'STORE_NOT_OPEN' })
})

t.test('a store written by a newer format is refused with STORE_VERSION', async t => {
  const location = join(await tempDir(t), 'db')
  const first = new Store({ location, nodeId: 'node-a' })
  await first.open()
  await first.mark([{ user: 'u', message: 'm', status: 'read' }])
  await first.close()

  const db = new Level<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  // A winner record from a future version: refused when read, never misread.
  const winners = await db.iterator({ gte: Buffer.of(0x04), lt: Buffer.of(0x05) }).all()
  t.equal(winners.length, 1)
  const [key, value] = winners[0]
  await db.put(key, Buffer.concat([Buffer.of(2), value.subarray(1)]))
  await db.close()
  const reader = new Store({ location, nodeId: 'node-a' })
  await reader.open()
  await t.rejects(reader.get('u', 'm'), { code: 'STORE_VERSION' })
  await reader.close()

  const db2 = new Level<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db2.open()
  await db2.put(Buffer.from('\x01format', 'latin1'), Buffer.of(99))
  await db2.close()
  const newer = new Store({ location, nodeId: 'node-a' })
  const err = await newer.open().then(() => null, (e: unknown) => e)
  t.ok(isMarksyncError(err, 'STORE_VERSION'), 'a whole store of a newer format is refused at open')
  // The refused open released the directory.
  const again = new Level(location)
  await again.open()
  await again.close()
})
