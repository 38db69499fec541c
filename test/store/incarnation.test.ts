import t from 'tap'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { Level } from 'level'
import { Store } from '../../src/store/index.js'
import { metaKey } from '../../src/store/keys.js'
import { tempDir } from '../helpers/tmp.js'

async function opened (location: string): Promise<Store> {
  const store = new Store({ location, nodeId: 'node-a', durability: 'relaxed' })
  await store.open()
  return store
}

t.test('a store knows its incarnation: kept across restarts, new when wiped or reincarnated', async t => {
  const location = join(await tempDir(t), 'db')
  const first = await opened(location)
  t.match(first.incarnation, /^[0-9a-f]{32}$/)
  const made = first.incarnation
  await first.close()
  const again = await opened(location)
  t.equal(again.incarnation, made, 'the same store is the same incarnation')
  const fresh = await again.reincarnate()
  t.not(fresh, made)
  t.equal(again.incarnation, fresh)
  await again.close()
  const third = await opened(location)
  t.equal(third.incarnation, fresh, 'a new incarnation is durable')
  await third.close()
  await rm(location, { recursive: true })
  const wiped = await opened(location)
  t.not(wiped.incarnation, fresh, 'a wiped directory is a new incarnation')
  await wiped.close()
})

t.test('a store of a version without incarnations gets one at its first open', async t => {
  const location = join(await tempDir(t), 'db')
  const first = await opened(location)
  await first.close()
  const db = new Level<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.del(metaKey('incarnation'))
  await db.close()
  const upgraded = await opened(location)
  t.match(upgraded.incarnation, /^[0-9a-f]{32}$/)
  await upgraded.close()
  t.equal((await opened(location).then(async s => { await s.close(); return s })).incarnation, upgraded.incarnation)
})

t.test('peer records: blank until set, durable, refused for a bad peer id', async t => {
  const location = join(await tempDir(t), 'db')
  const store = await opened(location)
  t.same(await store.getPeerRecord('node-b'), { incarnation: '', acked: 0, resync: false })
  await store.setPeerRecord('node-b', { incarnation: 'ab'.repeat(16), acked: 42, resync: true })
  await t.rejects(store.getPeerRecord('no/pe'), { code: 'INVALID_PEER' })
  await store.close()
  const again = await opened(location)
  t.same(await again.getPeerRecord('node-b'), { incarnation: 'ab'.repeat(16), acked: 42, resync: true })
  await again.close()
})
