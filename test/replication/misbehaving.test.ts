import t from 'tap'
import { Packr } from 'msgpackr'
import { MAX_BATCH_ENTRIES, MAX_FRAME_BYTES } from '../../src/limits.js'
import { encodeFrame, type BatchFrame } from '../../src/protocol/index.js'
import { waitFor } from '../helpers/wait.js'
import { connected, startNodes, type TestNode } from './helpers.js'
import { RawPeer } from './raw-peer.js'

const raw = new Packr({ useRecords: false, variableMapSize: true })
const TS = Date.now() * 1024

t.test('misbehaving peers are closed with the documented code and write nothing', async t => {
  // 'x' is a configured peer with no listener: raw clients claim to be it.
  const nodes = await startNodes(t, [
    { id: 'a', peers: ['b', 'x'], opts: { handshakeTimeoutMs: 500 } },
    { id: 'b', peers: ['a'] }
  ])
  const a = nodes.get('a') as TestNode
  const b = nodes.get('b') as TestNode
  await waitFor(() => connected(a, 'b'), { what: 'honest link up' })
  const rejected: Array<{ code: string }> = []
  a.repl.on('peer-rejected', e => rejected.push(e))
  const disconnected: Array<{ peer: string, code: string }> = []
  a.repl.on('peer-disconnected', e => disconnected.push(e))
  const seqBefore = a.store.lastSeq
  const batch: BatchFrame = { type: 'batch', prev: 0, seq: 1, round: 0, entries: [{ user: 'evil', message: 'm', status: 'read', origin: 'x', ts: TS }] }

  const cases: Array<{ name: string, wsCode: number, error?: string, run: (p: RawPeer) => Promise<void> }> = [
    { name: 'wrong secret', wsCode: 1008, error: 'AUTH_FAILED', run: async p => { await p.handshake('x', 'a', { secret: Buffer.from('wrong') }); p.send(encodeFrame(batch)) } },
    { name: 'wrong cluster', wsCode: 1008, error: 'WRONG_CLUSTER', run: async p => { p.send({ type: 'hello', versions: [1], cluster: 'other', node: 'x', nonce: Buffer.alloc(32), time: Date.now() }) } },
    { name: 'unknown node id', wsCode: 1008, error: 'UNKNOWN_PEER', run: async p => { p.send({ type: 'hello', versions: [1], cluster: 'test', node: 'nobody', nonce: Buffer.alloc(32), time: Date.now() }) } },
    { name: 'wrong version', wsCode: 1002, error: 'UNSUPPORTED_VERSION', run: async p => { p.send({ type: 'hello', versions: [99, 7], cluster: 'test', node: 'x', nonce: Buffer.alloc(32), time: Date.now() }) } },
    { name: 'garbage bytes', wsCode: 1007, error: 'INVALID_FRAME', run: async p => { p.send(Buffer.from([0xc1, 0xde, 0xad, 0xbe, 0xef])) } },
    { name: 'text frame', wsCode: 1007, error: 'INVALID_FRAME', run: async p => { p.ws.send('{"type":"hello"}') } },
    { name: 'valid msgpack, wrong shape', wsCode: 1007, error: 'INVALID_FRAME', run: async p => { p.send(raw.pack({ type: 'hello', versions: '1', cluster: 7 })) } },
    { name: 'valid msgpack, not a map', wsCode: 1007, error: 'INVALID_FRAME', run: async p => { p.send(raw.pack([1, 2, 3])) } },
    { name: 'unknown frame type', wsCode: 1002, error: 'UNKNOWN_FRAME', run: async p => { p.send(raw.pack({ type: 'gossip' })) } },
    { name: 'frame over the size limit', wsCode: 1009, run: async p => { p.send(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x90)) } },
    { name: 'batch before the handshake', wsCode: 1008, error: 'NOT_AUTHENTICATED', run: async p => { p.send(encodeFrame(batch)) } },
    { name: 'auth before hello', wsCode: 1002, error: 'UNEXPECTED_FRAME', run: async p => { p.send({ type: 'auth', proof: Buffer.alloc(32), time: 1, echo: 1 }) } },
    {
      name: 'batch claiming more entries than the limit',
      wsCode: 1009,
      error: 'BATCH_TOO_LARGE',
      run: async p => {
        await p.handshake('x', 'a')
        // A header claiming MAX_BATCH_ENTRIES + 1 entries, followed by far fewer bytes.
        const head = raw.pack({ type: 'batch', prev: 0, seq: 1, round: 0 })
        const count = Buffer.alloc(5)
        count[0] = 0xdd
        count.writeUInt32BE(MAX_BATCH_ENTRIES + 1, 1)
        p.send(Buffer.concat([Buffer.from([0x85]), head.subarray(1), raw.pack('entries'), count, raw.pack(['u', 'm', 0, 'x', TS])]))
      }
    },
    {
      name: 'bad entry inside an authenticated batch',
      wsCode: 1007,
      error: 'INVALID_FRAME',
      run: async p => {
        await p.handshake('x', 'a')
        p.send(raw.pack({ type: 'batch', prev: 0, seq: 2, round: 0, entries: [['ok', 'm', 0, 'x', TS], ['', 'm', 0, 'x', TS]] }))
      }
    },
    { name: 'hello after the handshake', wsCode: 1002, error: 'UNEXPECTED_FRAME', run: async p => { await p.handshake('x', 'a'); p.send({ type: 'hello', versions: [1], cluster: 'test', node: 'x', nonce: Buffer.alloc(32), time: 1 }) } },
    { name: 'ack of a batch never sent', wsCode: 1002, error: 'UNEXPECTED_FRAME', run: async p => { await p.handshake('x', 'a'); p.send({ type: 'ack', seq: 999 }) } },
    { name: 'silent during the handshake', wsCode: 1008, error: 'HANDSHAKE_TIMEOUT', run: async () => {} }
  ]

  for (const c of cases) {
    const p = await RawPeer.connect(a.port)
    await c.run(p)
    const closed = await p.waitClosed()
    t.equal(closed.code, c.wsCode, `${c.name}: close code`)
    if (c.error !== undefined) t.equal(p.errorCode(), c.error, `${c.name}: error frame first`)
    t.equal(a.store.lastSeq, seqBefore, `${c.name}: nothing written`)
  }
  t.equal(await a.store.get('evil', 'm'), undefined, 'no bad entry anywhere')
  for (const code of ['AUTH_FAILED', 'FRAME_TOO_LARGE', 'BATCH_TOO_LARGE', 'WRONG_CLUSTER']) {
    t.ok(rejected.some(r => r.code === code), `${code} reported as peer-rejected`)
  }

  // A peer that authenticates, then stops answering heartbeats, is terminated.
  const silent = await RawPeer.connect(a.port)
  silent.answerPings = false
  disconnected.length = 0
  await silent.handshake('x', 'a')
  await waitFor(() => disconnected.find(d => d.peer === 'x'), { what: 'silent peer dropped' })
  t.equal(disconnected.find(d => d.peer === 'x')?.code, 'HEARTBEAT_TIMEOUT')
  t.equal((await silent.waitClosed()).code, 1006, 'terminated, no close handshake')

  // Through all of it, the honest peer still replicates both ways.
  t.ok(connected(a, 'b'), 'honest session survived')
  await b.store.mark([{ user: 'alice', message: 'after', status: 'read' }])
  await a.store.mark([{ user: 'bob', message: 'after', status: 'unread' }])
  await waitFor(async () => (await a.store.get('alice', 'after'))?.status === 'read', { what: 'b → a' })
  await waitFor(async () => (await b.store.get('bob', 'after'))?.status === 'unread', { what: 'a → b' })
})

t.test('a replayed batch changes nothing', async t => {
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x'] }])
  const a = nodes.get('a') as TestNode
  const p = await RawPeer.connect(a.port)
  await p.handshake('x', 'a')
  const entries = [
    { user: 'alice', message: 'm1', status: 'read', origin: 'x', ts: TS },
    { user: 'alice', message: 'm2', status: 'unread', origin: 'x', ts: TS + 1 }
  ] as const
  const frame = encodeFrame({ type: 'batch', prev: 0, seq: 2, round: 0, entries: [...entries] })
  p.send(frame)
  t.equal((await p.next('ack')).seq, 2)
  const seq = a.store.lastSeq
  const state = [await a.store.get('alice', 'm1'), await a.store.get('alice', 'm2')]
  const unread = await a.store.unreadCount('alice')
  // The same bytes again, then as a fresh session (a reconnect replays from the cursor).
  p.send(frame)
  const p2 = await RawPeer.connect(a.port)
  await p2.handshake('x', 'a')
  p2.send(frame)
  t.equal((await p2.next('ack')).seq, 2, 'replay acknowledged')
  t.equal(a.store.lastSeq, seq, 'no new log entry')
  t.same([await a.store.get('alice', 'm1'), await a.store.get('alice', 'm2')], state, 'winners unchanged')
  t.equal(await a.store.unreadCount('alice'), unread, 'unread count unchanged')
  const st = a.repl.status()[0]
  t.equal(st.entriesEntered, 2)
  t.equal(st.entriesDuplicate, 2, 'the replay was counted as duplicates')
  p.close()
  p2.close()
})

t.test('the same change from two peers at once is applied once, and an ack never covers a refused one', async t => {
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x', 'y'] }])
  const a = nodes.get('a') as TestNode
  const x = await RawPeer.connect(a.port)
  const y = await RawPeer.connect(a.port)
  t.teardown(() => { x.close(); y.close() })
  await x.handshake('x', 'a')
  await y.handshake('y', 'a')
  await waitFor(() => a.repl.status().every(p => p.connected), { what: 'both up' })
  const shared = Array.from({ length: 500 }, (_, i) => ({ user: `u${i % 10}`, message: `m${i}`, status: 'unread' as const, origin: 'x', ts: TS + i }))
  // Both stream the same changes at the same moment (as two senders of a catch-up do).
  x.send({ type: 'batch', prev: 0, seq: 1, round: 0, entries: shared })
  y.send({ type: 'batch', prev: 0, seq: 1, round: 0, entries: shared })
  t.equal((await x.next('ack')).seq, 1)
  t.equal((await y.next('ack')).seq, 1)
  const [sx, sy] = ['x', 'y'].map(id => a.repl.status().find(p => p.id === id))
  t.equal((sx?.entriesEntered ?? 0) + (sy?.entriesEntered ?? 0), 500, 'entered once')
  t.equal((sx?.entriesDuplicate ?? 0) + (sy?.entriesDuplicate ?? 0) + (sx?.entriesStale ?? 0) + (sy?.entriesStale ?? 0), 500, 'the other copy discarded')
  t.equal(await a.store.unreadCount('u3'), 50)

  // x's batch is refused as a whole (one timestamp far in the future); y carries one of
  // its other changes at the same time: y's ack must still mean "durable here".
  const future = (Date.now() + 3_600_000) * 1024
  const ok = { user: 'v', message: 'ok', status: 'read' as const, origin: 'x', ts: TS + 10_000 }
  x.send({ type: 'batch', prev: 1, seq: 2, round: 0, entries: [ok, { user: 'v', message: 'future', status: 'read', origin: 'x', ts: future }] })
  y.send({ type: 'batch', prev: 1, seq: 2, round: 0, entries: [ok] })
  t.equal((await y.next('ack')).seq, 2, 'y acknowledged')
  t.equal((await a.store.get('v', 'ok'))?.status, 'read', 'and what it acknowledged is there')
  t.equal((await x.next('hold')).reason, 'FUTURE_TIMESTAMP', 'x is held for its stamps, not acknowledged')
  t.equal(await a.store.get('v', 'future'), undefined)
})
