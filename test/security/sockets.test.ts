/**
 * Raw TCP sockets on the replication port, below the WebSocket layer: a socket that
 * never sends its upgrade request is closed within the handshake timeout, at most
 * MAX_INBOUND_SOCKETS are held at once (one more is dropped), a plain HTTP request gets
 * 426, and an established session outlives those timeouts.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { MAX_INBOUND_SOCKETS } from '../../src/limits.js'
import { waitFor } from '../helpers/wait.js'
import { connected, startNodes, type TestNode } from '../replication/helpers.js'

const HANDSHAKE_MS = 1_000

/** Opens a TCP socket; resolves once connected, with a flag that turns true on close. */
async function open (port: number): Promise<{ socket: Socket, closed: () => boolean, data: () => string }> {
  const socket = connect(port, '127.0.0.1')
  let isClosed = false
  let text = ''
  socket.on('error', () => {})
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.on('close', () => { isClosed = true })
  await new Promise<void>(resolve => { socket.once('connect', () => resolve()); socket.once('close', () => resolve()) })
  return { socket, closed: () => isClosed, data: () => text }
}

let a: TestNode
let b: TestNode
t.before(async () => {
  // Both listeners time silent sockets out after HANDSHAKE_MS; the session between them
  // sits on one of the two listeners (whichever dial the pair kept).
  const nodes = await startNodes(t, [
    { id: 'a', peers: ['b'], opts: { handshakeTimeoutMs: HANDSHAKE_MS, heartbeatMs: 1_000 } },
    { id: 'b', peers: ['a'], opts: { handshakeTimeoutMs: HANDSHAKE_MS, heartbeatMs: 1_000 } }
  ])
  a = nodes.get('a') as TestNode
  b = nodes.get('b') as TestNode
  await waitFor(() => connected(a, 'b'), { what: 'the honest link' })
})

t.test('a socket that never sends its upgrade request is closed within the handshake timeout', async t => {
  const started = Date.now()
  const s = await open(a.port)
  await waitFor(() => s.closed(), { timeoutMs: HANDSHAKE_MS + 3_000, what: 'the silent socket to be closed' })
  t.ok(Date.now() - started >= HANDSHAKE_MS - 100, `not before the timeout (${Date.now() - started} ms)`)
})

t.test('a plain HTTP request gets 426 Upgrade Required', async t => {
  const s = await open(a.port)
  s.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor(() => s.data().includes('\r\n\r\n'), { what: 'an answer' })
  t.match(s.data(), /^HTTP\/1\.1 426 /)
  s.socket.destroy()
})

t.test('an established session outlives the listener\'s socket timeouts', async t => {
  const since = a.repl.status()[0]?.since
  await new Promise(resolve => setTimeout(resolve, HANDSHAKE_MS * 3))
  t.ok(connected(a, 'b') && connected(b, 'a'), 'still connected')
  t.equal(a.repl.status()[0]?.since, since, 'the same session')
  const [entry] = await b.store.mark([{ user: 'u', message: 'after-timeouts', status: 'read' }])
  await waitFor(async () => (await a.store.get('u', 'after-timeouts'))?.ts === entry?.ts, { what: 'replication after the timeouts' })
})

t.test('MAX_INBOUND_SOCKETS: that many sockets are held, one more is dropped at once', async t => {
  // A node of its own with a long handshake timeout, so the held sockets stay held.
  const nodes = await startNodes(t, [{ id: 'c', peers: ['x'], opts: { handshakeTimeoutMs: 10_000 } }])
  const c = nodes.get('c') as TestNode
  const held: Array<Awaited<ReturnType<typeof open>>> = []
  t.teardown(() => { for (const s of held) s.socket.destroy() })
  for (let i = 0; i < MAX_INBOUND_SOCKETS; i++) held.push(await open(c.port))
  const extra = await open(c.port)
  await waitFor(() => extra.closed(), { timeoutMs: 1_000, what: 'the extra socket to be dropped' })
  t.ok(extra.closed(), 'one more is dropped at once (long before any timeout)')
  // The server takes connections in order: having dropped the extra one, it has seen every held one.
  t.equal(held.filter(s => s.closed()).length, 0, `${MAX_INBOUND_SOCKETS} raw sockets held`)
  held.pop()?.socket.destroy()
  // Accepted or dropped shows positively: an accepted socket answers a plain request with 426,
  // a dropped one closes without a byte. Retry until the server has seen the freed place.
  const again = await waitFor(async () => {
    const s = await open(c.port)
    held.push(s)
    s.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => s.data() !== '' || s.closed(), { timeoutMs: 2_000, what: 'an answer or a close' })
    return s.data() !== '' ? s : undefined
  }, { timeoutMs: 3_000, what: 'a place to free up' })
  t.match(again.data(), /^HTTP\/1\.1 426 /, 'a socket is accepted again once one has gone')
})
