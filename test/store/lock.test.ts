import t from 'tap'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { isMarksyncError } from '../../src/errors.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { spawnFixture } from './child.js'

t.test('a data dir held by another process cannot be opened, and can once that process is gone', async t => {
  const location = join(await tempDir(t), 'db')
  const child = spawnFixture(t, 'lock-holder.mjs', [location])
  await waitFor(() => child.lines.includes('ready'), { timeoutMs: 15_000, what: 'the holder to open the store' })
  const store = new Store({ location, nodeId: 'lock-node' })
  const err = await store.open().then(() => null, (e: unknown) => e)
  t.ok(isMarksyncError(err, 'DATA_DIR_LOCKED'), 'DATA_DIR_LOCKED')
  t.match((err as Error).message, /in use by another marksync process/)
  t.match((err as Error).message, location)
  child.proc.kill('SIGKILL')
  await child.exited
  const again = new Store({ location, nodeId: 'lock-node' })
  await waitFor(async () => await again.open().then(() => true, () => false), { timeoutMs: 10_000, what: 'the lock to be released' })
  t.teardown(async () => { await again.close() })
  t.equal(again.lastSeq, 0)
})

t.test('a second store in the same process is refused too', async t => {
  const location = join(await tempDir(t), 'db')
  const first = new Store({ location, nodeId: 'n1' })
  await first.open()
  t.teardown(async () => { await first.close() })
  await t.rejects(new Store({ location, nodeId: 'n1' }).open(), { code: 'DATA_DIR_LOCKED' })
  await t.rejects(first.open(), { code: 'STORE_NOT_OPEN' }, 'a store opens once')
})
