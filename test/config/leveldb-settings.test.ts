/**
 * LevelDB's memory knobs in the mesh file (docs/operations.md "Settings" and "Memory"):
 * validated like every setting, and passed to the store the daemon opens.
 */
import t from 'tap'
import { parseMesh } from '../../src/config/mesh.js'
import { twoNodeMesh } from '../helpers/mesh-json.js'
import { storeOptions } from '../../src/daemon/open-store.js'
import { DEFAULT_LEVELDB_TUNING, Store } from '../../src/store/index.js'

function mesh (settings: unknown, own?: unknown): Record<string, unknown> {
  return twoNodeMesh({ settings }, own)
}

t.test('defaults are the store\'s: 8 MiB cache, 4 MiB memtable, 1,000 open files', async t => {
  const { settings } = parseMesh(mesh(undefined), '/').mesh.nodes[0]
  t.same([settings.leveldbCacheSize, settings.leveldbWriteBufferSize, settings.leveldbMaxOpenFiles],
    [DEFAULT_LEVELDB_TUNING.cacheSize, DEFAULT_LEVELDB_TUNING.writeBufferSize, DEFAULT_LEVELDB_TUNING.maxOpenFiles])
})

t.test('mesh-wide values, a node\'s own over them, reach the store the daemon opens', async t => {
  const parsed = parseMesh(mesh({ leveldbMaxOpenFiles: 200, leveldbCacheSize: 4_194_304 }, { leveldbMaxOpenFiles: 100, leveldbWriteBufferSize: 1_048_576 }), '/')
  t.same(parsed.problems.lines(), [])
  const [a, b] = parsed.mesh.nodes
  t.same(storeOptions(a).leveldb, { cacheSize: 4_194_304, writeBufferSize: 1_048_576, maxOpenFiles: 100 })
  t.same(storeOptions(b).leveldb, { cacheSize: 4_194_304, writeBufferSize: DEFAULT_LEVELDB_TUNING.writeBufferSize, maxOpenFiles: 200 })
  t.same({ ...new Store(storeOptions(a)).leveldb }, { cacheSize: 4_194_304, writeBufferSize: 1_048_576, maxOpenFiles: 100 })
})

t.test('a bad value is a problem of config check, naming the key and the range; the default stays', async t => {
  const parsed = parseMesh(mesh({ leveldbCacheSize: '8MB', leveldbWriteBufferSize: 1024, leveldbMaxOpenFiles: 50 }, { leveldbMaxOpenFiles: 100.5 }), '/')
  t.same(parsed.problems.lines(), [
    'settings.leveldbCacheSize: must be an integer 0..1073741824',
    'settings.leveldbWriteBufferSize: must be an integer 65536..67108864',
    'settings.leveldbMaxOpenFiles: must be an integer 74..50000',
    'nodes[0].settings.leveldbMaxOpenFiles: must be an integer 74..50000'
  ])
  t.equal(parsed.mesh.nodes[0].settings.leveldbMaxOpenFiles, DEFAULT_LEVELDB_TUNING.maxOpenFiles)
})
