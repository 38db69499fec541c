import t from 'tap'
import type { ApiServer } from '../../src/api/server.js'
import type { Store } from '../../src/store/index.js'
import { MAX_API_PAGE, MAX_CHANGES_WAIT_MS } from '../../src/limits.js'
import { startNode } from '../helpers/node.js'
import { apiCall, type Teardown } from '../helpers/daemon.js'

async function setup (tt: Teardown): Promise<{ url: string, store: Store, api: ApiServer }> {
  const { url, store, api } = await startNode(tt, { id: 'n1', store: { retentionMs: 60_000 }, api: {} })
  return { url, store, api: api as ApiServer }
}

t.test('the feed lists local and replicated entries in seq order, paged', async tt => {
  const { url, store } = await setup(tt)
  await store.mark([{ user: 'alice', message: '<m1@x>', status: 'read' }, { user: 'bob', message: '<m2@x>', status: 'unread' }])
  const ts = store.clock.now() + 1024
  await store.applyRemote([{ user: 'alice', message: '<m3@x>', status: 'deleted', origin: 'n2', ts }], { from: 'n2' })
  const all = await apiCall(url, 'GET', '/v1/changes')
  tt.equal(all.status, 200)
  tt.same(all.body.entries.map((e: any) => [e.seq, e.user, e.message, e.status, e.origin]), [
    [1, 'alice', '<m1@x>', 'read', 'n1'], [2, 'bob', '<m2@x>', 'unread', 'n1'], [3, 'alice', '<m3@x>', 'deleted', 'n2']
  ])
  tt.match(all.body.entries[2], { from: 'n2', ts, originTime: Math.floor(ts / 1024) })
  tt.type(all.body.entries[0].localTime, 'number')
  tt.match(all.body, { next: 3, lastSeq: 3, oldestSeq: 1, gap: false })
  const page = await apiCall(url, 'GET', '/v1/changes?after=1&limit=1')
  tt.same(page.body.entries.map((e: any) => e.seq), [2])
  tt.equal(page.body.next, 2)
  const none = await apiCall(url, 'GET', '/v1/changes?after=3')
  tt.same(none.body, { entries: [], next: 3, lastSeq: 3, oldestSeq: 1, gap: false })
})

t.test('a long-poll is answered when an entry is entered', async tt => {
  const { url, store } = await setup(tt)
  await store.mark([{ user: 'alice', message: 'a', status: 'read' }])
  const poll = apiCall(url, 'GET', `/v1/changes?after=1&wait=${MAX_CHANGES_WAIT_MS}`, { timeoutMs: MAX_CHANGES_WAIT_MS + 5_000 })
  let answered = false
  void poll.then(() => { answered = true })
  // The poll must still be open after a round trip that proves the server has it.
  await apiCall(url, 'GET', '/v1/health')
  tt.equal(answered, false, 'nothing new: the request is held')
  await store.mark([{ user: 'alice', message: 'b', status: 'unread' }])
  const reply = await poll
  tt.same(reply.body.entries.map((e: any) => [e.seq, e.message]), [[2, 'b']])
  tt.equal(reply.body.next, 2)
})

t.test('a long-poll that times out answers an empty page at the same cursor', async tt => {
  const { url } = await setup(tt)
  const reply = await apiCall(url, 'GET', '/v1/changes?after=0&wait=50')
  tt.same(reply.body, { entries: [], next: 0, lastSeq: 0, oldestSeq: 1, gap: false })
})

t.test('stopping the server ends held long-polls at once', async tt => {
  const { url, api } = await setup(tt)
  const poll = apiCall(url, 'GET', `/v1/changes?wait=${MAX_CHANGES_WAIT_MS}`, { timeoutMs: MAX_CHANGES_WAIT_MS + 5_000 }).catch(err => err)
  await apiCall(url, 'GET', '/v1/health')
  const started = Date.now()
  await api.stop()
  tt.ok(Date.now() - started < 5_000, 'stop did not wait for the long-poll to run out')
  await poll
})

t.test('entries purged before they were read are reported as a gap', async tt => {
  const { url, store } = await setup(tt)
  await store.mark([{ user: 'alice', message: 'a', status: 'read' }, { user: 'alice', message: 'b', status: 'read' }])
  await store.purge(Date.now() + 1)
  await store.mark([{ user: 'alice', message: 'c', status: 'unread' }])
  const reply = await apiCall(url, 'GET', '/v1/changes?after=0')
  tt.match(reply.body, { next: 3, lastSeq: 3, oldestSeq: 3, gap: true })
  tt.same(reply.body.entries.map((e: any) => e.message), ['c'])
  const caughtUp = await apiCall(url, 'GET', '/v1/changes?after=2')
  tt.equal(caughtUp.body.gap, false)
})

t.test('bad parameters get 400 INVALID_QUERY and change nothing', async tt => {
  const { url, store } = await setup(tt)
  const bad = ['after=-1', 'after=x', 'after=99999999999999999', 'limit=0', `limit=${MAX_API_PAGE + 1}`, 'wait=-5', `wait=${MAX_CHANGES_WAIT_MS + 1}`, 'wait=1.5']
  for (const query of bad) {
    const reply = await apiCall(url, 'GET', `/v1/changes?${query}`)
    tt.equal(reply.status, 400, query)
    tt.equal(reply.body.error.code, 'INVALID_QUERY', query)
  }
  tt.equal(store.lastSeq, 0)
})
