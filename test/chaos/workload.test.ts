import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { Workload } from './workload.js'
import { Prng } from '../helpers/prng.js'
import { apiGet, apiRequest, ApiTransportError } from './api-client.js'
import { reservePorts, CHAOS_PORT_MIN, ephemeralLow } from './ports.js'
import { waitFor } from '../helpers/wait.js'
import type { LocalChange } from '../../src/types.js'
import type { Teardown } from '../helpers/teardown.js'

type Handler = (body: any, req: IncomingMessage, res: ServerResponse) => void

/** A real HTTP server on port 0 that answers POST /v1/changes the way `handler` says. */
async function server (t: Teardown, handler: Handler): Promise<string> {
  const s = createServer((req, res) => {
    let text = ''
    req.on('data', c => { text += String(c) })
    req.on('end', () => { handler(text === '' ? undefined : JSON.parse(text), req, res) })
  })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    s.closeAllConnections()
    await new Promise<void>(resolve => s.close(() => resolve()))
  })
  const address = s.address()
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

function reply (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Acknowledges like the daemon: one entry per change, this node as origin. */
function ack (node: string, transform: (e: any, i: number) => any = e => e): Handler {
  let ts = 1_000_000
  return (body, _req, res) => {
    const changes: LocalChange[] = body.changes ?? [body]
    reply(res, 200, { entries: changes.map((c, i) => transform({ ...c, origin: node, ts: ts++, seq: i + 1, originTime: 1, localTime: 1 }, i)) })
  }
}

const change: LocalChange = { user: 'u', message: 'm', status: 'read' }

t.test('acknowledged changes are recorded with their entries, single and batch', async t => {
  const api = await server(t, ack('a'))
  const w = new Workload({ targets: [{ id: 'a', api }], seed: 1 })
  await w.send({ id: 'a', api }, [change])
  await w.send({ id: 'a', api }, [change, { ...change, message: 'n', status: 'unread' }])
  t.equal(w.acked.length, 3)
  t.same(w.acked.map(a => [a.node, a.entry.message, a.entry.status, a.entry.origin]), [['a', 'm', 'read', 'a'], ['a', 'm', 'read', 'a'], ['a', 'n', 'unread', 'a']])
  t.equal(w.requests, 2)
  t.same(w.badAcks, [])
})

t.test('acks that do not match the request are bad acks and uncertain', async t => {
  const wrongOrigin = await server(t, ack('z'))
  const wrongCount = await server(t, (_b, _r, res) => { reply(res, 200, { entries: [] }) })
  const wrongStatus = await server(t, ack('a', e => ({ ...e, status: 'deleted' })))
  const w = new Workload({ targets: [{ id: 'a', api: wrongOrigin }], seed: 1 })
  await w.send({ id: 'a', api: wrongOrigin }, [change])
  await w.send({ id: 'a', api: wrongCount }, [change])
  await w.send({ id: 'a', api: wrongStatus }, [change])
  t.equal(w.acked.length, 0)
  t.equal(w.badAcks.length, 3)
  t.same(w.uncertain.map(u => u.reason), ['bad ack', 'bad ack', 'bad ack'])
})

t.test('4xx means not entered, 5xx and timeouts may have been, refused means nothing was sent', async t => {
  const bad = await server(t, (_b, _r, res) => { reply(res, 400, { error: { code: 'INVALID_STATUS', message: 'no' } }) })
  const broken = await server(t, (_b, _r, res) => { reply(res, 503, { error: { code: 'STORE_NOT_OPEN', message: 'no' } }) })
  const silent = await server(t, () => {})
  const [closedPort] = await reservePorts(1)
  const w = new Workload({ targets: [{ id: 'a', api: bad }], seed: 1, timeoutMs: 200 })
  await w.send({ id: 'a', api: bad }, [change])
  await w.send({ id: 'a', api: broken }, [change, change])
  await w.send({ id: 'a', api: silent }, [change])
  await w.send({ id: 'a', api: `http://127.0.0.1:${closedPort as number}` }, [change])
  t.same(Object.fromEntries(w.errors), { '400 INVALID_STATUS': 1, '503 STORE_NOT_OPEN': 1 })
  t.same(w.uncertain.map(u => u.reason.replace(/:.*/, '')), ['503 STORE_NOT_OPEN', '503 STORE_NOT_OPEN', 'POST /v1/changes'])
  t.match(w.uncertain[2]?.reason, /no answer within 200 ms/)
  t.equal(w.refused, 1)
  t.equal(w.requests, 4)
})

t.test('running clients spread changes over the targets, skewed to the hot set, and stop', async t => {
  const seen = new Map<string, number>()
  const apis = await Promise.all(['a', 'b'].map(async id => await server(t, (body, req, res) => {
    seen.set(id, (seen.get(id) ?? 0) + 1)
    ack(id)(body, req, res)
  })))
  const w = new Workload({ targets: [{ id: 'a', api: apis[0] as string }, { id: 'b', api: apis[1] as string }], seed: 7, maxRate: 200 })
  w.start()
  w.start()
  await waitFor(() => w.acked.length >= 100, { timeoutMs: 10_000, what: '100 acknowledged changes' })
  await w.stop()
  const count = w.acked.length
  t.ok((seen.get('a') ?? 0) > 5 && (seen.get('b') ?? 0) > 5, 'both targets got requests')
  const hot = w.acked.filter(a => /^user-[0-2]@/.test(a.entry.user)).length
  t.ok(hot / count > 0.6, `${hot} of ${count} changes went to the hot users`)
  t.ok(w.acked.some(a => a.entry.message.includes('/')), 'some message ids need percent-encoding')
  t.equal(w.acked.length, count, 'nothing is sent after stop()')
  t.throws(() => new Workload({ targets: [], seed: 1 }), TypeError)
  const rng = new Prng(3)
  t.same(new Workload({ targets: [{ id: 'a', api: 'x' }], seed: 1 }).change(rng), new Workload({ targets: [{ id: 'a', api: 'x' }], seed: 1 }).change(new Prng(3)))
})

t.test('the API client: JSON in and out, errors, limits', async t => {
  const api = await server(t, (body, req, res) => {
    if (req.url === '/text') {
      res.end('not json')
      return
    }
    reply(res, req.headers.authorization === 'Bearer tok' ? 200 : 401, { got: body ?? null, url: req.url })
  })
  t.same(await apiGet(api, '/x?y=1', { token: 'tok' }), { got: null, url: '/x?y=1' })
  await t.rejects(apiGet(api, '/x'), /HTTP 401/)
  t.same((await apiRequest(api, 'GET', '/text')).body, 'not json')
  const err = await apiRequest('http://127.0.0.1:1', 'GET', '/').catch((e: unknown) => e)
  t.ok(err instanceof ApiTransportError && err.failure === 'refused')
})

t.test('chaos ports are below the ephemeral range and free', async t => {
  const ports = await reservePorts(6)
  t.equal(new Set(ports).size, 6)
  t.ok(ports.every(p => p >= CHAOS_PORT_MIN && p < ephemeralLow()))
  let calls = 0
  await t.rejects(reservePorts(2, () => { calls++; return 0 }), /no 2 free ports/, 'a stuck generator gives up')
  t.ok(calls > 0)
})
