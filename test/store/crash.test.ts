import t from 'tap'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { spawnFixture } from './child.js'

// Needs the compiled store: `npm test` builds first (or run `npx tsc -p .`).
const ACKS_BEFORE_KILL = 300

t.test('every change acknowledged under sync durability survives SIGKILL', async t => {
  const location = join(await tempDir(t), 'db')
  const child = spawnFixture(t, 'crash-child.mjs', [location])
  await waitFor(() => child.lines.length > ACKS_BEFORE_KILL, { timeoutMs: 30_000, what: 'acknowledged changes' })
  child.proc.kill('SIGKILL')
  const exit = await child.exited
  t.equal(exit.signal, 'SIGKILL', 'killed mid-stream, not finished')
  const acked = child.lines.slice(1).filter(line => line.startsWith('{')).map(line => JSON.parse(line) as { seq: number, user: string, message: string, status: string, ts: number })
  t.ok(acked.length > ACKS_BEFORE_KILL, `${acked.length} acknowledged`)

  const store = new Store({ location, nodeId: 'crash-node' })
  await store.open()
  t.teardown(async () => { await store.close() })
  let missing = 0
  for (const a of acked) {
    const state = await store.get(a.user, a.message)
    if (state?.status !== a.status || state.seq !== a.seq || state.ts !== a.ts) missing++
  }
  t.equal(missing, 0, 'every acknowledged change is there')
  const maxSeq = Math.max(...acked.map(a => a.seq))
  t.ok(store.lastSeq >= maxSeq, `lastSeq ${store.lastSeq} >= ${maxSeq}`)
  const feed = await store.feed(0, 10_000)
  t.same(feed.map(e => e.seq), Array.from({ length: store.lastSeq }, (_, i) => i + 1), 'the feed has no holes')
  t.ok(store.clock.last >= Math.max(...acked.map(a => a.ts)), 'the clock resumes after every acknowledged stamp')
  for (let u = 0; u < 5; u++) {
    const unread = feed.filter(e => e.user === `user${u}` && e.status === 'unread').length
    t.equal(await store.unreadCount(`user${u}`), unread, 'unread count in step with the entries')
  }
})
