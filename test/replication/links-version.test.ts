/**
 * `links` frames exist from protocol version 2 on (docs/protocol.md "Relays", Versions): a
 * node sends none on a session that negotiated version 1 (an older build closes on an
 * unknown frame type) and closes such a session that sends one; version 2 carries them.
 */
import t, { type Test } from 'tap'
import { waitFor } from '../helpers/wait.js'
import { startNodes, type TestNode } from './helpers.js'
import { RawPeer } from './raw-peer.js'

const LINKS: Array<[string, string]> = [['a', 'x']]

async function nodeA (t: Parameters<typeof startNodes>[0]): Promise<TestNode> {
  // 'x' is a configured peer with no listener: the raw client plays it.
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x'], opts: { links: LINKS } }])
  return nodes.get('a') as TestNode
}

async function session (t: Test, a: TestNode, versions: number[]): Promise<RawPeer> {
  const p = await RawPeer.connect(a.port)
  t.teardown(() => { p.close() })
  const welcome = await p.handshake('x', 'a', { versions })
  t.equal(welcome.version, Math.max(...versions), 'the highest offered version was chosen')
  return p
}

t.test('a version-1 session gets no links frame, and one it sends closes it', async t => {
  const a = await nodeA(t)
  const p = await session(t, a, [1])
  await a.store.mark([{ user: 'u', message: 'm1', status: 'unread' }])
  await p.next('batch')
  // Heartbeats every 100 ms: three pings span a LINK_REPORT_MS tick after the session began.
  await waitFor(() => p.pings >= 3, { what: 'three pings' })
  p.send({ type: 'ping', t0: 1 })
  await p.next('pong')
  t.same(p.frames.filter(f => f.type === 'links'), [], 'no links frame on version 1')
  t.equal(p.closed, undefined, 'the session is open')

  p.send({ type: 'links', peers: [['a', true, 0]] })
  const closed = await p.waitClosed()
  t.equal(closed.code, 1002)
  t.equal(p.errorCode(), 'UNKNOWN_FRAME')
})

t.test('a version-2 session gets links frames and may send them', async t => {
  const a = await nodeA(t)
  const p = await session(t, a, [1, 2])
  const links = await p.next('links')
  t.same(links.peers, [['x', true, 0]], 'a reports its link to x up')
  p.send({ type: 'links', peers: [['a', true, 0]] })
  await a.store.mark([{ user: 'u', message: 'm1', status: 'unread' }])
  await p.next('batch')
  p.send({ type: 'ping', t0: 1 })
  await p.next('pong')
  t.equal(p.closed, undefined, 'the session stays open')
})
