/**
 * Every HTTP API limit at its value (accepted, written) and one past it (refused with
 * the documented code, nothing written), over a real ApiServer and Store on port 0.
 * Bodies are checked both with a Content-Length and streamed (chunked), since the
 * server enforces the limit on each path separately.
 */
import t from 'tap'
import { request } from 'node:http'
import type { ApiServer } from '../../src/api/server.js'
import type { Store } from '../../src/store/index.js'
import { MAX_API_BODY_BYTES, MAX_API_CHANGES, MAX_API_PAGE, MAX_MESSAGE_BYTES, MAX_USER_BYTES } from '../../src/limits.js'
import { startNode } from '../helpers/node.js'
import { apiCall } from '../helpers/daemon.js'

let store: Store
let url: string
let port: number
t.before(async () => {
  const node = await startNode(t, { id: 'n', api: { backend: { cluster: 'c', purge: async () => await node.store.purge(0) } } })
  store = node.store
  url = node.url
  port = (node.api as ApiServer).port
})

/** A valid single-change body padded with trailing spaces to exactly `size` bytes. */
function bodyOfSize (message: string, size: number): Buffer {
  const json = JSON.stringify({ user: 'body-limit', message, status: 'read' })
  return Buffer.concat([Buffer.from(json), Buffer.alloc(size - Buffer.byteLength(json), 0x20)])
}

async function post (body: Buffer, chunked: boolean): Promise<{ status: number, code?: string }> {
  return await new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' }
    if (!chunked) headers['content-length'] = body.length
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/changes', headers, agent: false }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => {
        resolve({ status: res.statusCode ?? 0, code: res.statusCode === 200 ? undefined : (JSON.parse(text) as { error: { code: string } }).error.code })
      })
    })
    req.on('error', reject)
    if (!chunked) return req.end(body)
    // Streamed in 64 KiB pieces, no Content-Length: the server counts as it reads.
    for (let i = 0; i < body.length; i += 65_536) req.write(body.subarray(i, i + 65_536))
    req.end()
  })
}

t.test('MAX_API_BODY_BYTES: a body of exactly the limit is written, one byte more is 413 BODY_TOO_LARGE', async t => {
  for (const chunked of [false, true]) {
    const how = chunked ? 'streamed' : 'with Content-Length'
    const before = store.lastSeq
    t.same(await post(bodyOfSize(`at-${how}`, MAX_API_BODY_BYTES), chunked), { status: 200, code: undefined }, `${how}: at the limit`)
    t.equal(store.lastSeq, before + 1)
    t.same(await post(bodyOfSize(`over-${how}`, MAX_API_BODY_BYTES + 1), chunked), { status: 413, code: 'BODY_TOO_LARGE' }, `${how}: one byte over`)
    t.equal(store.lastSeq, before + 1, `${how}: nothing written`)
    t.equal(await store.get('body-limit', `over-${how}`), undefined)
  }
})

t.test('MAX_API_CHANGES per request: the limit is written, one more is 400 TOO_MANY_CHANGES', async t => {
  const changes = (n: number, tag: string): unknown => ({ changes: Array.from({ length: n }, (_, i) => ({ user: `changes-${tag}`, message: `m${i}`, status: 'unread' })) })
  const before = store.lastSeq
  const at = await apiCall(url, 'POST', '/v1/changes', { body: changes(MAX_API_CHANGES, 'at') })
  t.equal(at.status, 200)
  t.equal(at.body.entries.length, MAX_API_CHANGES)
  t.equal(store.lastSeq, before + MAX_API_CHANGES)
  const over = await apiCall(url, 'POST', '/v1/changes', { body: changes(MAX_API_CHANGES + 1, 'over') })
  t.equal(over.status, 400)
  t.equal(over.body.error.code, 'TOO_MANY_CHANGES')
  t.equal(store.lastSeq, before + MAX_API_CHANGES, 'nothing of it written')
  t.equal(await store.unreadCount('changes-over'), 0)
})

t.test('id lengths in UTF-8 bytes: at the limit written, one byte over refused; one bad change refuses the whole request', async t => {
  const u = 'é'.repeat(MAX_USER_BYTES / 2)
  const m = 'é'.repeat(MAX_MESSAGE_BYTES / 2)
  const before = store.lastSeq
  const at = await apiCall(url, 'POST', '/v1/changes', { body: { changes: [{ user: u, message: 'm', status: 'read' }, { user: 'ids', message: m, status: 'read' }] } })
  t.equal(at.status, 200, 'a 256-byte user and a 512-byte message')
  t.equal(store.lastSeq, before + 2)
  const overUser = await apiCall(url, 'POST', '/v1/changes', { body: { changes: [{ user: 'ids', message: 'fine', status: 'read' }, { user: u + 'a', message: 'm', status: 'read' }] } })
  t.match(overUser, { status: 400, body: { error: { code: 'INVALID_USER' } } }, 'a 257-byte user')
  const overMessage = await apiCall(url, 'POST', '/v1/changes', { body: { user: 'ids', message: m + 'a', status: 'read' } })
  t.match(overMessage, { status: 400, body: { error: { code: 'INVALID_MESSAGE' } } }, 'a 513-byte message')
  t.equal(store.lastSeq, before + 2, 'nothing written, not even the valid change beside the bad one')
  t.equal(await store.get('ids', 'fine'), undefined)
  // In paths too.
  t.equal((await apiCall(url, 'GET', `/v1/users/${encodeURIComponent(u)}/unread/count`)).status, 200)
  t.match(await apiCall(url, 'GET', `/v1/users/${encodeURIComponent(u + 'a')}/unread/count`), { status: 400, body: { error: { code: 'INVALID_USER' } } })
  t.equal((await apiCall(url, 'GET', `/v1/users/ids/messages/${encodeURIComponent(m)}`)).status, 200)
  t.match(await apiCall(url, 'GET', `/v1/users/ids/messages/${encodeURIComponent(m + 'a')}`), { status: 400, body: { error: { code: 'INVALID_MESSAGE' } } })
})

t.test('MAX_API_PAGE: limit at the maximum is served, one more is 400 INVALID_QUERY', async t => {
  for (const path of ['/v1/users/changes-at/unread', '/v1/users/changes-at/log', '/v1/winners']) {
    const at = await apiCall(url, 'GET', `${path}?limit=${MAX_API_PAGE}`)
    t.equal(at.status, 200, `${path} at the limit`)
    t.match(await apiCall(url, 'GET', `${path}?limit=${MAX_API_PAGE + 1}`), { status: 400, body: { error: { code: 'INVALID_QUERY' } } }, `${path} over it`)
  }
  const page = await apiCall(url, 'GET', `/v1/users/changes-at/unread?limit=${MAX_API_PAGE}`)
  t.equal(page.body.messages.length, MAX_API_PAGE, 'a full page')
  t.equal(page.body.count, MAX_API_CHANGES)
})
