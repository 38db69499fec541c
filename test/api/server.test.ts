import t from 'tap'
import { request } from 'node:http'
import { ApiServer } from '../../src/api/server.js'
import type { Store } from '../../src/store/index.js'
import { Metrics } from '../../src/metrics.js'
import { MAX_API_BODY_BYTES, MAX_API_CHANGES, MAX_MESSAGE_BYTES, MAX_USER_BYTES } from '../../src/limits.js'
import { startNode } from '../helpers/node.js'
import { apiCall, type Teardown } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'

const TOKEN = 'sesame-token'

async function setup (tt: Teardown, options: { token?: string } = {}): Promise<{ url: string, store: Store, api: ApiServer, purges: number[] }> {
  const purges: number[] = []
  let metrics: Metrics | undefined
  const node = await startNode(tt, {
    id: 'n1',
    store: { retentionMs: 60_000 },
    beforeStart: ({ store }) => {
      metrics = new Metrics({ peers: () => [], seq: () => ({ lastSeq: store.lastSeq, oldestSeq: store.oldestSeq }) })
      store.on('entered', entries => metrics?.entered(entries))
    },
    api: {
      ...(options.token !== undefined ? { token: options.token } : {}),
      backend: {
        purge: async () => { const r = await node.store.purge(Date.now() + 1); purges.push(r.removed); return r },
        metrics: async () => await (metrics as Metrics).text()
      },
      onRequest: (route, status) => metrics?.httpRequest(route, status)
    }
  })
  return { url: node.url, store: node.store, api: node.api as ApiServer, purges }
}

t.test('routes answer per the contract', async tt => {
  const { url } = await setup(tt)
  const health = await apiCall(url, 'GET', '/v1/health')
  tt.same(health.body, { ok: true, node: 'n1', store: { state: 'ok' } })

  const single = await apiCall(url, 'POST', '/v1/changes', { body: { user: 'al/ice', message: 'm 1', status: 'unread' } })
  tt.equal(single.status, 200)
  tt.equal(single.body.entries.length, 1)
  tt.match(single.body.entries[0], { user: 'al/ice', message: 'm 1', status: 'unread', origin: 'n1', seq: 1 })
  tt.type(single.body.entries[0].ts, 'number')

  const changes = ['m2', 'm3', 'm4', 'm5'].map(message => ({ user: 'al/ice', message, status: 'unread' }))
  const batch = await apiCall(url, 'POST', '/v1/changes', { body: { changes } })
  tt.equal(batch.body.entries.length, 4)
  await apiCall(url, 'POST', '/v1/changes', { body: { changes: [{ user: 'al/ice', message: 'm3', status: 'read' }] } })

  const u = encodeURIComponent('al/ice')
  const count = await apiCall(url, 'GET', `/v1/users/${u}/unread/count`)
  tt.same(count.body, { user: 'al/ice', count: 4 })
  const page1 = await apiCall(url, 'GET', `/v1/users/${u}/unread?limit=2`)
  tt.same(page1.body, { user: 'al/ice', count: 4, messages: ['m 1', 'm2'], next: 'm2' })
  const page2 = await apiCall(url, 'GET', `/v1/users/${u}/unread?limit=2&after=m2`)
  tt.same(page2.body, { user: 'al/ice', count: 4, messages: ['m4', 'm5'], next: null })

  const state = await apiCall(url, 'GET', `/v1/users/${u}/messages/${encodeURIComponent('m3')}`)
  tt.match(state.body, { user: 'al/ice', message: 'm3', status: 'read', origin: 'n1', seq: 6 })
  tt.type(state.body.originTime, 'number')
  tt.type(state.body.localTime, 'number')
  const missing = await apiCall(url, 'GET', `/v1/users/${u}/messages/nope`)
  tt.equal(missing.status, 404)
  tt.equal(missing.body.error.code, 'NOT_FOUND')

  const log1 = await apiCall(url, 'GET', `/v1/users/${u}/log?limit=4`)
  tt.same(log1.body.entries.map((e: { seq: number }) => e.seq), [1, 2, 3, 4])
  tt.equal(log1.body.next, 4)
  const log2 = await apiCall(url, 'GET', `/v1/users/${u}/log?after=4`)
  tt.same(log2.body.entries.map((e: { seq: number }) => e.seq), [5, 6])
  tt.equal(log2.body.next, null)

  await apiCall(url, 'POST', '/v1/changes', { body: { user: 'bob', message: 'x', status: 'deleted' } })
  const w1 = await apiCall(url, 'GET', '/v1/winners?limit=3')
  tt.equal(w1.body.winners.length, 3)
  tt.same(w1.body.next, { user: 'al/ice', message: 'm3' })
  const w2 = await apiCall(url, 'GET', `/v1/winners?afterUser=${u}&afterMessage=m3`)
  tt.same(w2.body.winners.map((w: { message: string }) => w.message), ['m4', 'm5', 'x'])
  tt.equal(w2.body.next, null)

  const status = await apiCall(url, 'GET', '/v1/status')
  tt.match(status.body, { node: 'n1', cluster: 'test', seq: 7, oldestSeq: 1, durability: 'relaxed', retentionMs: 60_000, peers: [], clockCorrectionMs: 0 })
  tt.ok(status.body.hlcPhysicalMs <= status.body.wallTime + 5)

  const purged = await apiCall(url, 'POST', '/v1/purge')
  tt.same(purged.body, { removed: 7, oldestSeq: 8 })
  // Winners stay after a purge: the state is intact.
  tt.same((await apiCall(url, 'GET', `/v1/users/${u}/unread/count`)).body.count, 4)

  const metrics = await apiCall(url, 'GET', '/metrics')
  tt.equal(metrics.status, 200)
  tt.match(metrics.text, /marksync_changes_entered_total\{source="local"\} 7/)
  tt.match(metrics.text, /marksync_http_requests_total\{route="\/v1\/changes",status="200"\} 4/)
  tt.match(metrics.text, /marksync_log_oldest_seq 8/)
})

t.test('bad input gets a 4xx with a JSON error and changes nothing', async tt => {
  const { url, store } = await setup(tt)
  await apiCall(url, 'POST', '/v1/changes', { body: { user: 'u', message: 'keep', status: 'unread' } })
  const before = store.lastSeq
  const cases: Array<[string, string, string, unknown, number, string]> = [
    ['bad JSON', 'POST', '/v1/changes', '{"changes": [', 400, 'BAD_JSON'],
    ['empty body', 'POST', '/v1/changes', ' ', 400, 'BAD_JSON'],
    ['unknown status', 'POST', '/v1/changes', { user: 'u', message: 'm', status: 'seen' }, 400, 'INVALID_STATUS'],
    ['user too long', 'POST', '/v1/changes', { user: 'u'.repeat(MAX_USER_BYTES + 1), message: 'm', status: 'read' }, 400, 'INVALID_USER'],
    ['message too long', 'POST', '/v1/changes', { user: 'u', message: 'm'.repeat(MAX_MESSAGE_BYTES + 1), status: 'read' }, 400, 'INVALID_MESSAGE'],
    ['one bad change in a batch', 'POST', '/v1/changes', { changes: [{ user: 'u', message: 'ok', status: 'read' }, { user: 'u', message: 'm', status: 'nope' }] }, 400, 'INVALID_STATUS'],
    ['empty batch', 'POST', '/v1/changes', { changes: [] }, 400, 'INVALID_ENTRY'],
    ['not an object', 'POST', '/v1/changes', [1, 2], 400, 'INVALID_ENTRY'],
    ['too many changes', 'POST', '/v1/changes', { changes: Array.from({ length: MAX_API_CHANGES + 1 }, (_, i) => ({ user: 'u', message: `m${i}`, status: 'read' })) }, 400, 'TOO_MANY_CHANGES'],
    ['oversize body', 'POST', '/v1/changes', { user: 'u', message: 'm', status: 'read', pad: 'x'.repeat(MAX_API_BODY_BYTES) }, 413, 'BODY_TOO_LARGE'],
    ['unknown route', 'GET', '/v1/nothing', undefined, 404, 'NOT_FOUND'],
    ['wrong method', 'DELETE', '/v1/changes', undefined, 405, 'METHOD_NOT_ALLOWED'],
    ['bad limit', 'GET', '/v1/users/u/unread?limit=0', undefined, 400, 'INVALID_QUERY'],
    ['limit too large', 'GET', '/v1/users/u/log?limit=100000', undefined, 400, 'INVALID_QUERY'],
    ['bad after', 'GET', '/v1/users/u/log?after=-1', undefined, 400, 'INVALID_QUERY'],
    ['half a winners cursor', 'GET', '/v1/winners?afterUser=u', undefined, 400, 'INVALID_QUERY'],
    ['malformed path', 'GET', '/v1/users/%E0%A4%A/unread', undefined, 400, 'INVALID_PATH'],
    ['user too long in path', 'GET', `/v1/users/${'u'.repeat(MAX_USER_BYTES + 1)}/unread/count`, undefined, 400, 'INVALID_USER']
  ]
  for (const [name, method, path, body, status, code] of cases) {
    const res = await apiCall(url, method, path, body === undefined ? {} : { body })
    tt.equal(res.status, status, `${name}: status`)
    tt.equal(res.body?.error?.code, code, `${name}: code`)
    tt.type(res.body?.error?.message, 'string', `${name}: message`)
  }
  tt.equal(store.lastSeq, before, 'nothing was written')
  const unread = await apiCall(url, 'GET', '/v1/users/u/unread')
  tt.same(unread.body.messages, ['keep'])
})

t.test('an oversize body without Content-Length is cut at the limit', async tt => {
  const { url, store } = await setup(tt)
  const { port } = new URL(url)
  const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/changes', headers: { 'transfer-encoding': 'chunked' } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', c => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = (): void => {
      while (sent <= MAX_API_BODY_BYTES * 2) {
        sent += chunk.length
        if (!req.write(chunk)) { req.once('drain', pump); return }
      }
      req.end()
    }
    pump()
  })
  tt.equal(answer.status, 413)
  tt.equal(JSON.parse(answer.body).error.code, 'BODY_TOO_LARGE')
  tt.equal(store.lastSeq, 0)
})

t.test('a bearer token guards every route but health', async tt => {
  const { url, store } = await setup(tt, { token: TOKEN })
  tt.equal((await apiCall(url, 'GET', '/v1/health')).status, 200)
  for (const token of [undefined, 'wrong', TOKEN + 'x']) {
    const res = await apiCall(url, 'POST', '/v1/changes', { body: { user: 'u', message: 'm', status: 'read' }, ...(token !== undefined ? { token } : {}) })
    tt.equal(res.status, 401)
    tt.equal(res.body.error.code, 'UNAUTHORIZED')
    tt.equal((await apiCall(url, 'GET', '/metrics', token !== undefined ? { token } : {})).status, 401)
  }
  tt.equal(store.lastSeq, 0, 'nothing was written')
  // The status page needs no token: it holds no data and asks for the token itself.
  const page = await fetch(url + '/')
  tt.equal(page.status, 200)
  tt.match(page.headers.get('content-type'), /^text\/html/)
  tt.match(page.headers.get('content-security-policy'), /script-src 'sha256-[^']+'; style-src 'sha256-/)
  tt.match(await page.text(), /sessionStorage/)
  const status = await apiCall(url, 'GET', '/v1/status', { token: TOKEN })
  tt.equal(status.body.mesh, null, 'no mesh without a daemon')
  tt.same(status.body.throughput, { windowMs: 0, entriesPerSec: 0 })
  const ok = await apiCall(url, 'POST', '/v1/changes', { body: { user: 'u', message: 'm', status: 'read' }, token: TOKEN })
  tt.equal(ok.status, 200)
  tt.equal(store.lastSeq, 1)
})

t.test('stop lets an in-flight write finish and refuses new requests', async tt => {
  const { url, api, store } = await setup(tt)
  const changes = Array.from({ length: 500 }, (_, i) => ({ user: 'u', message: `m${i}`, status: 'unread' }))
  const inflight = apiCall(url, 'POST', '/v1/changes', { body: { changes } })
  // Stop while the request is being handled.
  await waitFor(() => api.inFlight > 0, { intervalMs: 1 })
  const stopping = api.stop()
  const res = await inflight
  await stopping
  tt.equal(res.status, 200)
  tt.equal(res.body.entries.length, 500)
  tt.equal(store.lastSeq, 500)
  await tt.rejects(apiCall(url, 'GET', '/v1/health', { timeoutMs: 2000 }))
  await api.stop()
})

t.test('a body that trickles in too slowly gets a JSON 408 and the connection is closed', async tt => {
  const { store, api: served } = await startNode(tt, { id: 'n1', api: { requestTimeoutMs: 300, backend: { retentionMs: 1 } } })
  const api = served as ApiServer
  const { createConnection } = await import('node:net')
  const socket = createConnection({ host: '127.0.0.1', port: api.port })
  let answer = ''
  socket.setEncoding('utf8').on('data', (c: string) => { answer += c })
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  socket.write('POST /v1/changes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user":')
  const started = Date.now()
  await closed
  tt.ok(Date.now() - started < 5_000, 'answered within the deadline, not left hanging')
  tt.match(answer, /^HTTP\/1\.1 408 /)
  tt.match(answer, /"code":"REQUEST_TIMEOUT"/)
  tt.equal(store.lastSeq, 0)
})
