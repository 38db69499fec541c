/**
 * Authentication of peer sessions, both roles, and of the HTTP API: every way a
 * handshake can fail is refused with its code and writes nothing; a recorded session
 * replayed byte for byte (a passive attacker) fails on the fresh nonce; a proof cannot
 * be reflected, moved to another pair or version; the API token is required and
 * compared whole.
 */
import t from 'tap'
import { createServer, connect, type Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ApiServer } from '../../src/api/server.js'
import type { Replicator } from '../../src/replication/index.js'
import type { PeerConfig } from '../../src/replication/api.js'
import type { Store } from '../../src/store/index.js'
import { computeProof, decodeFrame, encodeFrame, newNonce, type Frame, type WelcomeFrame } from '../../src/protocol/index.js'
import { apiCall } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'
import { RawPeer } from '../replication/raw-peer.js'
import { CLUSTER, SECRET } from '../replication/helpers.js'
import type { Teardown } from '../helpers/teardown.js'
import { startNode } from '../helpers/node.js'

interface Node { store: Store, repl: Replicator, rejected: Array<{ code: string, peer?: string }> }

async function startReplicating (t: Teardown, id: string, peers: PeerConfig[]): Promise<Node> {
  const rejected: Node['rejected'] = []
  const { store, repl } = await startNode(t, {
    id,
    replication: { listen: { host: '127.0.0.1', port: 0 }, peers, heartbeatMs: 200, pushDelayMs: 1, handshakeTimeoutMs: 1_000 },
    beforeStart: ({ repl }) => { repl?.on('peer-rejected', e => rejected.push(e)) }
  })
  return { store, repl: repl as Replicator, rejected }
}

const NOWHERE = 'ws://127.0.0.1:1'

t.test('acceptor: every handshake failure is refused with its code and writes nothing', async t => {
  const a = await startReplicating(t, 'a', [{ id: 'x', url: NOWHERE }, { id: 'y', url: NOWHERE }])
  const port = a.repl.port
  const batch = encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries: [{ user: 'evil', message: 'm', status: 'read', origin: 'x', ts: Date.now() * 1024 }] })
  /** Dialer half by hand: hello as `node`, then an auth whose proof `prove` makes from the welcome. */
  const attempt = async (node: string, prove: (w: WelcomeFrame, nonce: Buffer) => Buffer | Uint8Array): Promise<{ code?: number, error?: string }> => {
    const p = await RawPeer.connect(port)
    const nonce = newNonce()
    p.send({ type: 'hello', versions: [1], cluster: CLUSTER, node, nonce, time: Date.now() })
    const w = await p.next('welcome')
    p.send({ type: 'auth', proof: prove(w, nonce), time: Date.now(), echo: w.time })
    p.send(batch)
    const closed = await p.waitClosed()
    return { code: closed.code, error: p.errorCode() }
  }
  const proofOf = (w: WelcomeFrame, nonce: Buffer, over: Partial<Parameters<typeof computeProof>[1]> = {}, secret = SECRET): Buffer =>
    computeProof(secret, { role: 'dialer', version: w.version, cluster: CLUSTER, dialer: 'x', acceptor: 'a', dialerNonce: nonce, acceptorNonce: w.nonce, ...over })

  const cases: Array<[string, (w: WelcomeFrame, n: Buffer) => Buffer | Uint8Array, number, string]> = [
    ['wrong secret', (w, n) => proofOf(w, n, {}, Buffer.from('not the cluster secret')), 1008, 'AUTH_FAILED'],
    ['reflected: the acceptor\'s own proof sent back', w => w.proof, 1008, 'AUTH_FAILED'],
    ['proof made for the acceptor role', (w, n) => proofOf(w, n, { role: 'acceptor' }), 1008, 'AUTH_FAILED'],
    ['proof for another pair (claims x, proves y)', (w, n) => proofOf(w, n, { dialer: 'y' }), 1008, 'AUTH_FAILED'],
    ['proof for another acceptor', (w, n) => proofOf(w, n, { acceptor: 'b' }), 1008, 'AUTH_FAILED'],
    ['proof for another version', (w, n) => proofOf(w, n, { version: 2 }), 1008, 'AUTH_FAILED'],
    ['proof for another cluster', (w, n) => proofOf(w, n, { cluster: 'other' }), 1008, 'AUTH_FAILED'],
    ['proof over swapped nonces', (w, n) => proofOf(w, n, { dialerNonce: w.nonce, acceptorNonce: n }), 1008, 'AUTH_FAILED'],
    ['all-zero proof', () => Buffer.alloc(32), 1008, 'AUTH_FAILED'],
    ['proof one byte short', (w, n) => proofOf(w, n).subarray(0, 31), 1007, 'INVALID_FRAME'],
    ['proof one byte long', (w, n) => Buffer.concat([proofOf(w, n), Buffer.from([0])]), 1007, 'INVALID_FRAME']
  ]
  for (const [name, prove, code, error] of cases) {
    t.same(await attempt('x', prove), { code, error }, name)
  }
  // The refusals before any proof.
  const hello = async (frame: Frame | Buffer): Promise<string | undefined> => {
    const p = await RawPeer.connect(port)
    p.send(frame)
    await p.waitClosed()
    return p.errorCode()
  }
  t.equal(await hello({ type: 'hello', versions: [1], cluster: 'other', node: 'x', nonce: newNonce(), time: 1 }), 'WRONG_CLUSTER')
  t.equal(await hello({ type: 'hello', versions: [1], cluster: CLUSTER, node: 'stranger', nonce: newNonce(), time: 1 }), 'UNKNOWN_PEER')
  t.equal(await hello({ type: 'hello', versions: [99], cluster: CLUSTER, node: 'x', nonce: newNonce(), time: 1 }), 'UNSUPPORTED_VERSION')
  t.equal(await hello(encodeFrame({ type: 'hello', versions: [1], cluster: CLUSTER, node: 'x', nonce: Buffer.alloc(31), time: 1 })), 'INVALID_FRAME', 'a short nonce')
  t.equal(await hello(batch), 'NOT_AUTHENTICATED', 'a batch instead of a hello')
  t.equal(await hello({ type: 'auth', proof: Buffer.alloc(32), time: 1, echo: 1 }), 'UNEXPECTED_FRAME', 'an auth instead of a hello')
  const silent = await RawPeer.connect(port)
  await silent.waitClosed(5_000)
  t.equal(silent.errorCode(), 'HANDSHAKE_TIMEOUT', 'silence')

  t.equal(a.store.lastSeq, 0, 'nothing written by any of them')
  t.equal(await a.store.get('evil', 'm'), undefined)
  t.ok(a.rejected.filter(r => r.code === 'AUTH_FAILED').length >= 9, 'each refusal reported as peer-rejected')
  // And the right proof does get in: the refusals above were about the proof alone.
  const ok = await RawPeer.connect(port)
  t.teardown(() => ok.close())
  await ok.handshake('x', 'a')
  await waitFor(() => a.repl.status().find(s => s.id === 'x')?.connected, { what: 'the honest handshake' })
})

/** A TCP relay that records every byte the client sends. */
async function recordingProxy (t: Teardown, targetPort: number): Promise<{ port: number, recorded: Buffer[] }> {
  const recorded: Buffer[] = []
  const sockets = new Set<Socket>()
  const server = createServer(client => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.on('data', (d: Buffer) => { recorded.push(Buffer.from(d)); upstream.write(d) })
    upstream.on('data', (d: Buffer) => client.write(d))
    const end = (): void => { client.destroy(); upstream.destroy() }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { for (const s of sockets) s.destroy(); await new Promise(resolve => server.close(resolve)) })
  return { port: (server.address() as { port: number }).port, recorded }
}

t.test('a recorded session replayed byte for byte is refused: the acceptor\'s fresh nonce fails the old proof', async t => {
  // a only accepts (its dial to b goes nowhere); b reaches a through the recording relay.
  const a = await startReplicating(t, 'a', [{ id: 'b', url: NOWHERE }])
  const relay = await recordingProxy(t, a.repl.port)
  const b = await startReplicating(t, 'b', [{ id: 'a', url: `ws://127.0.0.1:${relay.port}` }])
  const marked = await b.store.mark([{ user: 'alice', message: 'm1', status: 'read' }, { user: 'alice', message: 'm2', status: 'unread' }])
  await waitFor(async () => (await a.store.get('alice', 'm2'))?.ts === marked[1]?.ts, { what: 'b\'s changes through the relay' })
  await b.repl.stop()
  const stream = Buffer.concat(relay.recorded)
  t.ok(stream.includes(Buffer.from('Upgrade: websocket', 'latin1')) || stream.toString('latin1').toLowerCase().includes('upgrade: websocket'), 'the recording holds the upgrade')
  t.ok(stream.length > 300, `and the session's frames (${stream.length} bytes)`)

  // The attacker replays it to a node that has never seen b's changes, same identity and secret.
  const fresh = await startReplicating(t, 'a', [{ id: 'b', url: NOWHERE }])
  const replay = connect(fresh.repl.port, '127.0.0.1')
  let answer = Buffer.alloc(0)
  replay.on('data', (d: Buffer) => { answer = Buffer.concat([answer, d]) })
  replay.on('error', () => {})
  const closed = new Promise<void>(resolve => replay.on('close', () => resolve()))
  replay.end(stream)
  await closed
  await waitFor(() => fresh.rejected.length > 0, { what: 'the refusal' })
  t.equal(fresh.rejected[0]?.code, 'AUTH_FAILED', 'the replayed auth fails')
  t.equal(fresh.store.lastSeq, 0, 'nothing of the replayed batches was written')
  t.equal(await fresh.store.get('alice', 'm1'), undefined)
  t.ok(answer.toString('latin1').startsWith('HTTP/1.1 101'), 'it got as far as the WebSocket upgrade, no further')
  t.notOk(fresh.repl.status()[0]?.connected, 'no session')
})

t.test('dialer: an acceptor that cannot prove the secret is refused, whatever it answers', async t => {
  // A real acceptor b, to capture a genuine welcome from.
  const b = await startReplicating(t, 'b', [{ id: 'a', url: NOWHERE }])
  const capture = await RawPeer.connect(b.repl.port)
  const n1 = newNonce()
  capture.send({ type: 'hello', versions: [1], cluster: CLUSTER, node: 'a', nonce: n1, time: Date.now() })
  const genuine = await capture.next('welcome')
  capture.close()

  type Answer = (hello: Extract<Frame, { type: 'hello' }>) => Frame
  const fakeWelcome = (over: Partial<WelcomeFrame>): Answer => h => ({
    type: 'welcome', version: 1, cluster: CLUSTER, node: 'b', nonce: newNonce(), time: Date.now(), echo: h.time, proof: Buffer.alloc(32), ...over
  })
  const cases: Array<[string, Answer, string]> = [
    ['a genuine welcome of another session, replayed', () => genuine, 'AUTH_FAILED'],
    ['a proof made with the wrong secret', h => { const nonce = newNonce(); return fakeWelcome({ nonce, proof: computeProof(Buffer.from('guess'), { role: 'acceptor', version: 1, cluster: CLUSTER, dialer: 'a', acceptor: 'b', dialerNonce: h.nonce, acceptorNonce: nonce }) })(h) }, 'AUTH_FAILED'],
    ['the dialer\'s own nonce reflected as the acceptor\'s', h => fakeWelcome({ nonce: h.nonce })(h), 'AUTH_FAILED'],
    ['another node id', fakeWelcome({ node: 'c' }), 'UNKNOWN_PEER'],
    ['another cluster', fakeWelcome({ cluster: 'other' }), 'WRONG_CLUSTER'],
    ['a version never offered', fakeWelcome({ version: 9 }), 'UNSUPPORTED_VERSION']
  ]
  for (const [name, answer, code] of cases) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise(resolve => wss.once('listening', resolve))
    const port = (wss.address() as { port: number }).port
    const got: string[] = []
    wss.on('connection', (ws: WebSocket) => {
      ws.on('error', () => {})
      ws.on('message', (data: Buffer) => {
        const f = decodeFrame(data)
        got.push(f.type)
        if (f.type === 'hello') {
          ws.send(encodeFrame(answer(f)))
          // And a batch right behind it, as if the handshake were done.
          ws.send(encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries: [{ user: 'evil', message: name, status: 'read', origin: 'b', ts: Date.now() * 1024 }] }))
        }
      })
    })
    const a = await startReplicating(t, 'a', [{ id: 'b', url: `ws://127.0.0.1:${port}` }])
    await waitFor(() => a.rejected.length > 0, { what: `${name}: the refusal` })
    t.equal(a.rejected[0]?.code, code, name)
    t.notOk(got.includes('auth'), `${name}: the dialer never sent its proof`)
    t.equal(a.store.lastSeq, 0, `${name}: nothing written`)
    await a.repl.stop()
    for (const c of wss.clients) c.terminate()
    await new Promise(resolve => wss.close(resolve))
  }
})

t.test('API token: required on every route but /v1/health, compared whole', async t => {
  const TOKEN = 'api-token-under-test-7f3a'
  const { store, api: served } = await startNode(t, { id: 'n', api: { token: TOKEN, backend: { purge: async () => await store.purge(0) } } })
  const api = served as ApiServer
  const body = { user: 'u', message: 'm', status: 'read' }
  const wrong = [undefined, '', TOKEN.slice(0, -1), TOKEN + 'x', TOKEN.toUpperCase(), 'x'.repeat(TOKEN.length), 'x'.repeat(10_000)]
  for (const token of wrong) {
    for (const [method, path] of [['POST', '/v1/changes'], ['GET', '/v1/status'], ['GET', '/v1/users/u/unread'], ['POST', '/v1/purge'], ['GET', '/v1/winners']] as const) {
      const r = await apiCall(api.url, method, path, { body: method === 'POST' ? body : undefined, token })
      t.equal(r.status, 401, `${method} ${path} with ${token === undefined ? 'no token' : `a wrong one of ${token.length} chars`}`)
      t.equal(r.body.error.code, 'UNAUTHORIZED')
      t.notOk(r.text.includes(TOKEN), 'the answer never holds the token')
    }
  }
  for (const header of [`Basic ${TOKEN}`, TOKEN, `Bearer${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer x${TOKEN}`]) {
    const r = await fetch(`${api.url}/v1/status`, { headers: { authorization: header } })
    t.equal(r.status, 401, `not the Bearer scheme with the whole token: ${header.slice(0, 8)}...`)
    await r.text()
  }
  // The scheme name is case-insensitive (RFC 9110); the token is not.
  for (const header of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`]) {
    const r = await fetch(`${api.url}/v1/status`, { headers: { authorization: header } })
    t.equal(r.status, 200, `${header.slice(0, 6)} accepted`)
    await r.text()
  }
  t.equal(store.lastSeq, 0, 'no unauthorized write')
  t.equal((await apiCall(api.url, 'GET', '/v1/health')).status, 200, '/v1/health is open (liveness probes)')
  const ok = await apiCall(api.url, 'POST', '/v1/changes', { body, token: TOKEN })
  t.equal(ok.status, 200, 'the right token writes')
  t.equal(store.lastSeq, 1)
})
