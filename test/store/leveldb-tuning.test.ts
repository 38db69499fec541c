/**
 * LevelDB's memory knobs (docs/operations.md "Memory"): checked by the store, and the
 * values reach LevelDB (its block cache and memtable bound what it reports it holds; its
 * open-files limit bounds the tables it keeps mapped).
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { Store, DEFAULT_LEVELDB_TUNING } from '../../src/store/index.js'
import { leveldbMemoryBytes, openDb } from '../../src/store/open-db.js'
import { tempDir } from '../helpers/tmp.js'
import { openStore } from './util.js'

const KiB = 1024
const MiB = 1024 * KiB

t.test('defaults: 8 MiB block cache, 4 MiB memtable, 1,000 open files; given values are kept', async t => {
  t.same({ ...DEFAULT_LEVELDB_TUNING }, { cacheSize: 8 * MiB, writeBufferSize: 4 * MiB, maxOpenFiles: 1_000 })
  const plain = await openStore(t)
  t.same({ ...plain.leveldb }, DEFAULT_LEVELDB_TUNING)
  const tuned = await openStore(t, { leveldb: { maxOpenFiles: 200 } })
  t.same({ ...tuned.leveldb }, { ...DEFAULT_LEVELDB_TUNING, maxOpenFiles: 200 })
  t.ok(Object.isFrozen(tuned.leveldb))
})

t.test('a value out of range is refused before anything is opened or created', async t => {
  const dir = await tempDir(t)
  const bad: Array<[string, number]> = [['cacheSize', -1], ['cacheSize', 2 * 1024 * MiB], ['writeBufferSize', 1024], ['writeBufferSize', 65 * MiB], ['maxOpenFiles', 73], ['maxOpenFiles', 50_001], ['maxOpenFiles', 100.5]]
  for (const [key, value] of bad) {
    t.throws(() => new Store({ location: join(dir, 'x'), nodeId: 'a', leveldb: { [key]: value } }), { name: 'TypeError', message: new RegExp(`^leveldb\\.${key} must be an integer`) }, `${key} ${value}`)
  }
  t.same(await readdir(dir), [], 'no store directory was made')
})

/** Writes `count` changes of distinct messages, then reads every one back. */
async function writeAndRead (store: Store, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1_000) {
    await store.mark(Array.from({ length: 1_000 }, (_, j) => ({ user: `user${(i + j) % 97}`, message: `<${i + j}.${'x'.repeat(40)}@example.org>`, status: 'unread' as const })))
  }
  for (let i = 0; i < count; i += 500) {
    await Promise.all(Array.from({ length: 500 }, async (_, j) => await store.get(`user${(i + j) % 97}`, `<${i + j}.${'x'.repeat(40)}@example.org>`)))
  }
}

t.test('the block cache and memtable sizes reach LevelDB: what it holds stays under them', async t => {
  const small = await openStore(t, { leveldb: { cacheSize: 64 * KiB, writeBufferSize: 64 * KiB } })
  const plain = await openStore(t)
  await writeAndRead(small, 30_000)
  await writeAndRead(plain, 30_000)
  const smallBytes = small.leveldbMemoryBytes()
  const plainBytes = plain.leveldbMemoryBytes()
  // A memtable passes its size by up to one write batch (here 1,000 changes, ~260 KB) before it is flushed.
  t.ok(smallBytes < 1 * MiB, `small store holds ${smallBytes} bytes`)
  t.ok(plainBytes > 4 * MiB, `default store holds ${plainBytes} bytes`)
})

t.test('leveldbMemoryBytes needs an open store', async t => {
  const store = new Store({ location: join(await tempDir(t), 's'), nodeId: 'a' })
  t.throws(() => store.leveldbMemoryBytes(), { code: 'STORE_NOT_OPEN' })
})

/** Tables of this process's LevelDB mapped into memory right now. */
function mappedTables (dir: string): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter(l => l.includes(dir) && l.endsWith('.ldb')).length
}

t.test('the open-files limit reaches LevelDB: at most maxOpenFiles - 10 tables stay mapped', { skip: process.platform !== 'linux' && 'reads /proc/self/maps' }, async t => {
  const location = join(await tempDir(t), 'tables')
  // 12 MB of ascending keys through 64 KiB memtables: over 100 small tables that do not overlap, so LevelDB keeps them apart.
  const first = await openDb(location, 'a', { cacheSize: 0, writeBufferSize: 64 * KiB, maxOpenFiles: 74 })
  for (let i = 0; i < 12_000; i += 100) {
    await first.db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: Buffer.from(`t${String(i + j).padStart(8, '0')}`), value: randomBytes(KiB) })))
  }
  const readAll = async (db: typeof first.db): Promise<number> => {
    let n = 0
    for await (const key of db.keys({ gt: Buffer.from('t'), lt: Buffer.from('u') })) n += key.length > 0 ? 1 : 0
    return n
  }
  t.equal(await readAll(first.db), 12_000)
  const tables = (await readdir(location)).filter(f => f.endsWith('.ldb')).length
  t.ok(tables > 90, `${tables} tables`)
  t.ok(mappedTables(location) <= 64, `${mappedTables(location)} tables mapped with maxOpenFiles 74`)
  t.ok(leveldbMemoryBytes(first.db) < 1 * MiB)
  await first.db.close()
  const second = await openDb(location, 'a', { ...DEFAULT_LEVELDB_TUNING })
  t.teardown(async () => { await second.db.close() })
  t.equal(await readAll(second.db), 12_000)
  t.ok(mappedTables(location) > 64, `${mappedTables(location)} tables mapped with maxOpenFiles 1000`)
})
