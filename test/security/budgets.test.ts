/**
 * Per-peer budgets (src/replication/peer-budget.ts, docs/security.md "Budgets"): the
 * bookkeeping alone with a fake clock, then each budget over a real replicator: the
 * pending-handshake and inbound-connection limits at their value and one past it,
 * refusal of a faulty address and of a faulty authenticated peer, the frame rate.
 */
import t from 'tap'
import { WebSocket } from 'ws'
import { MAX_INBOUND_CONNECTIONS, MAX_PENDING_HANDSHAKES, MAX_TRACKED_FAULT_SOURCES } from '../../src/limits.js'
import { FrameRate, PeerBudget, addressKey, peerKey } from '../../src/replication/peer-budget.js'
import { connected, startNodes, type TestNode } from '../replication/helpers.js'
import { RawPeer } from '../replication/raw-peer.js'
import { waitFor } from '../helpers/wait.js'

t.test('PeerBudget bookkeeping', async t => {
  let now = 1_000_000
  const b = new PeerBudget({ maxFaults: 3, faultWindowMs: 1_000, backoffMinMs: 100, backoffMaxMs: 350, maxInbound: 5, maxPendingHandshakes: 2 }, () => now)
  t.same(b.admit('1.2.3.4', 4, 1), { ok: true }, 'below both limits')
  t.match(b.admit('1.2.3.4', 5, 0), { ok: false, status: 503, code: 'TOO_MANY_CONNECTIONS' }, 'inbound limit')
  t.match(b.admit('1.2.3.4', 3, 2), { ok: false, status: 503, code: 'TOO_MANY_CONNECTIONS' }, 'pending limit')
  const k = addressKey('1.2.3.4')
  t.equal(b.fault(k), 0)
  t.equal(b.fault(k), 0)
  t.equal(b.fault(k), 100, 'the third fault in the window refuses for backoffMinMs')
  t.match(b.admit('1.2.3.4', 0, 0), { ok: false, status: 429, code: 'BACKED_OFF', retryAfterMs: 100 })
  t.same(b.admit('5.6.7.8', 0, 0), { ok: true }, 'other addresses are not affected')
  now += 100
  t.equal(b.refusedFor(k), 0, 'the refusal ends')
  b.fault(k); b.fault(k)
  t.equal(b.fault(k), 200, 'a repeat offender waits twice as long')
  b.fault(k); b.fault(k)
  t.equal(b.fault(k), 350, 'capped at backoffMaxMs')
  now += 5_000
  b.fault(k); b.fault(k)
  t.equal(b.fault(k), 100, 'a quiet window forgives: back to the shortest refusal')
  now += 5_000
  t.equal(b.fault(k), 0, 'faults of an old window do not add up')
  t.equal(b.refusedFor(peerKey('x')), 0)

  // Bounded memory: a spray of fresh sources never grows the table past its limit.
  const spray = new PeerBudget({ maxFaults: 1_000 }, () => now)
  for (let i = 0; i < MAX_TRACKED_FAULT_SOURCES + 100; i++) spray.fault(addressKey(`10.0.${i >> 8}.${i & 255}`))
  t.equal(spray.refusedFor(addressKey('10.0.0.0')), 0)
  let later = 0
  const rate = new FrameRate(10, 3, () => later)
  t.same([rate.take(), rate.take(), rate.take(), rate.take()], [true, true, true, false], 'a burst of 3, then empty')
  later += 100
  t.equal(rate.take(), true, '100 ms at 10/s refills one frame')
  t.equal(rate.take(), false)
})

/** Opens a raw socket; resolves with 'open' or the HTTP status of a refused upgrade. */
async function dial (port: number): Promise<{ ws: WebSocket, result: 'open' | number, retryAfter?: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`)
  ws.on('error', () => {})
  return await new Promise(resolve => {
    ws.once('open', () => resolve({ ws, result: 'open' }))
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ws, result: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] })
      res.resume()
      ws.terminate()
    })
  })
}

t.test('MAX_PENDING_HANDSHAKES: that many unauthenticated sockets are admitted, one more gets 503', async t => {
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x'], opts: { handshakeTimeoutMs: 10_000 } }])
  const a = nodes.get('a') as TestNode
  const open: WebSocket[] = []
  t.teardown(() => { for (const ws of open) ws.terminate() })
  for (let i = 0; i < MAX_PENDING_HANDSHAKES; i++) {
    const d = await dial(a.port)
    t.equal(d.result, 'open', `handshake ${i + 1} admitted`)
    open.push(d.ws)
  }
  const over = await dial(a.port)
  t.equal(over.result, 503, `handshake ${MAX_PENDING_HANDSHAKES + 1} refused at the upgrade`)
  // One finishing frees a place.
  open.pop()?.terminate()
  const again = await waitFor(async () => { const d = await dial(a.port); if (d.result === 'open') { open.push(d.ws); return d } return undefined }, { timeoutMs: 5_000, what: 'a place to free up' })
  t.equal(again.result, 'open')
})

t.test('MAX_INBOUND_CONNECTIONS: that many sessions are admitted, one more gets 503', async t => {
  const ids = Array.from({ length: MAX_INBOUND_CONNECTIONS }, (_, i) => `x${i}`)
  // Peers without listeners: the node's own dials fail, the raw clients authenticate as them.
  const nodes = await startNodes(t, [{ id: 'a', peers: ids, opts: { heartbeatMs: 2_000 } }])
  const a = nodes.get('a') as TestNode
  const peers: RawPeer[] = []
  t.teardown(() => { for (const p of peers) p.close() })
  // In groups below the pending-handshake limit, so only the total is tested here.
  for (let i = 0; i < ids.length; i += MAX_PENDING_HANDSHAKES / 2) {
    const group = ids.slice(i, i + MAX_PENDING_HANDSHAKES / 2)
    await Promise.all(group.map(async id => {
      const p = await RawPeer.connect(a.port)
      peers.push(p)
      await p.handshake(id, 'a')
    }))
    await waitFor(() => group.every(id => connected(a, id)), { what: `sessions ${i}..${i + group.length - 1}` })
  }
  t.equal(a.repl.status().filter(s => s.connected).length, MAX_INBOUND_CONNECTIONS, 'every session established')
  const over = await dial(a.port)
  t.equal(over.result, 503, 'one more is refused at the upgrade')
  t.equal(peers.filter(p => p.closed !== undefined).length, 0, 'the established sessions are untouched')
})

t.test('an address that faults too often is refused for a while, then admitted again; an honest session is untouched', async t => {
  const budget = { maxFaults: 3, backoffMinMs: 1_500 }
  // Slow heartbeats: on a loaded machine a 100 ms one could drop the honest session, and
  // b, sharing the refused address, could not come back until the refusal ends.
  const nodes = await startNodes(t, [
    { id: 'a', peers: ['b', 'x'], opts: { budget, heartbeatMs: 1_000 } },
    { id: 'b', peers: ['a'], opts: { heartbeatMs: 1_000 } }
  ])
  const a = nodes.get('a') as TestNode
  const b = nodes.get('b') as TestNode
  await waitFor(() => connected(a, 'b'), { what: 'the honest link' })
  const backedOff: unknown[] = []
  a.repl.on('peer-rejected', e => { if (e.code === 'BACKED_OFF') backedOff.push(e) })
  for (let i = 0; i < budget.maxFaults; i++) {
    const p = await RawPeer.connect(a.port)
    p.send(Buffer.from([0xc1]))
    t.equal((await p.waitClosed()).code, 1007, `fault ${i + 1}`)
  }
  await waitFor(() => backedOff.length === 1, { what: 'the refusal event' })
  const refused = await dial(a.port)
  t.equal(refused.result, 429, 'refused at the upgrade')
  t.equal(refused.retryAfter, '2', 'with Retry-After in seconds')
  // The honest peer shares the address (loopback) but its session was established before.
  const [entry] = await a.store.mark([{ user: 'u', message: 'during-refusal', status: 'read' }])
  await waitFor(async () => (await b.store.get('u', 'during-refusal'))?.ts === entry?.ts, { what: 'replication during the refusal' })
  const back = await waitFor(async () => { const d = await dial(a.port); d.ws.terminate(); return d.result === 'open' ? d : undefined }, { timeoutMs: 5_000, what: 'the refusal to end' })
  t.equal(back.result, 'open', 'admitted again after the backoff')
})

t.test('an authenticated peer that faults too often is refused (1013 BACKED_OFF); others are not', async t => {
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x', 'y'], opts: { budget: { maxFaults: 2, backoffMinMs: 30_000 } } }])
  const a = nodes.get('a') as TestNode
  for (let i = 0; i < 2; i++) {
    const p = await RawPeer.connect(a.port)
    await p.handshake('x', 'a')
    await waitFor(() => connected(a, 'x'), { what: 'x established' })
    p.send(Buffer.from([0x80]))
    t.equal((await p.waitClosed()).code, 1007, `x fault ${i + 1}: an empty map is not a frame`)
    await waitFor(() => !connected(a, 'x'), { what: 'x gone' })
  }
  const x = await RawPeer.connect(a.port)
  await x.handshake('x', 'a')
  t.equal((await x.waitClosed()).code, 1013, 'x authenticates and is told to try again later')
  t.equal(x.errorCode(), 'BACKED_OFF')
  t.notOk(connected(a, 'x'))
  // Post-authentication faults are x's alone: the shared address and peer y are fine.
  const y = await RawPeer.connect(a.port)
  t.teardown(() => y.close())
  await y.handshake('y', 'a')
  await waitFor(() => connected(a, 'y'), { what: 'y established' })
  t.equal(y.closed, undefined)
})

t.test('a session that floods frames beyond its budget is closed RATE_LIMITED (1008)', async t => {
  const burst = 20
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x'], opts: { heartbeatMs: 5_000, budget: { frameRate: 0.001, frameBurst: burst } } }])
  const a = nodes.get('a') as TestNode
  const p = await RawPeer.connect(a.port)
  t.teardown(() => p.close())
  await p.handshake('x', 'a') // hello + auth: 2 frames of the burst
  for (let i = 0; i < burst - 2; i++) p.send({ type: 'ping', t0: i + 1 })
  await waitFor(() => p.frames.filter(f => f.type === 'pong').length === burst - 2, { what: 'every ping within the budget answered' })
  t.equal(p.closed, undefined, 'at the budget: open')
  p.send({ type: 'ping', t0: 999 })
  t.equal((await p.waitClosed()).code, 1008, 'one frame past it: closed')
  t.equal(p.errorCode(), 'RATE_LIMITED')
})
