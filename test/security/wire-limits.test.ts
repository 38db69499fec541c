/**
 * Every replication limit at its value (accepted) and one past it (refused with the
 * documented code and close, nothing written), over a real replicator and sockets.
 * docs/security.md "Limits" lists them; docs/protocol.md "Limits" says where each is enforced.
 */
import t from 'tap'
import { Packr } from 'msgpackr'
import {
  MAX_BATCH_ENTRIES, MAX_CLUSTER_BYTES, MAX_FRAME_BYTES, MAX_FRAME_DEPTH, MAX_MESSAGE_BYTES, MAX_NODE_ID_BYTES,
  MAX_OFFERED_VERSIONS, MAX_USER_BYTES
} from '../../src/limits.js'
import { decodeFrame, encodeFrame } from '../../src/protocol/index.js'
import type { Change } from '../../src/types.js'
import { startNodes, type TestNode } from '../replication/helpers.js'
import { RawPeer } from '../replication/raw-peer.js'

const raw = new Packr({ useRecords: false, variableMapSize: true })
const TS = (Date.now() - 1_000) * 1024

function change (user: string, message: string, origin = 'x'): Change {
  return { user, message, status: 'read', origin, ts: TS }
}

/** A batch frame padded by an ignored extra field to exactly `size` bytes. */
function batchOfSize (entries: Change[], size: number): Buffer {
  const frame = encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries })
  const fields = (frame[0] as number) & 0x0f
  const key = raw.pack('pad')
  const base = frame.length + key.length
  const strLen = size - base - 5 // str32 header: 0xdb + 4 length bytes
  if (strLen < 65_536) throw new Error('padding too small for a str32')
  const head = Buffer.from([0x80 | (fields + 1)])
  const str = Buffer.alloc(5 + strLen, 0x61)
  str[0] = 0xdb
  str.writeUInt32BE(strLen, 1)
  return Buffer.concat([head, frame.subarray(1), key, str])
}

let node: TestNode
t.before(async () => {
  // 'x' has no listener: raw clients authenticate as it. The raw client shares this
  // process's event loop, so a long apply must not look like a silent peer: 1 s heartbeats.
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x'], opts: { handshakeTimeoutMs: 2_000, heartbeatMs: 1_000 } }])
  node = nodes.get('a') as TestNode
})

/** Authenticated as x, sends `bytes`; resolves with the ack or the close. */
async function sendBatch (bytes: Buffer): Promise<{ acked: boolean, close?: number, error?: string }> {
  const p = await RawPeer.connect(node.port)
  try {
    await p.handshake('x', 'a')
    p.send(bytes)
    const outcome = await Promise.race([
      p.next('ack', 15_000).then(() => 'ack' as const),
      p.waitClosed(15_000).then(() => 'closed' as const)
    ])
    if (outcome === 'ack') return { acked: true }
    return { acked: false, close: p.closed?.code, error: p.errorCode() }
  } finally {
    p.close()
  }
}

t.test('MAX_FRAME_BYTES: a frame of exactly the limit applies, one byte more is closed 1009', async t => {
  const before = node.store.lastSeq
  const at = batchOfSize([change('frame-limit', 'at')], MAX_FRAME_BYTES)
  t.equal(at.length, MAX_FRAME_BYTES)
  t.match(await sendBatch(at), { acked: true })
  t.equal(node.store.lastSeq, before + 1)
  const over = batchOfSize([change('frame-limit', 'over')], MAX_FRAME_BYTES + 1)
  t.match(await sendBatch(over), { acked: false, close: 1009 })
  t.equal(node.store.lastSeq, before + 1, 'nothing written')
  t.equal(await node.store.get('frame-limit', 'over'), undefined)
})

t.test('MAX_BATCH_ENTRIES: a batch of exactly the limit applies, one more entry is BATCH_TOO_LARGE (1009)', async t => {
  const before = node.store.lastSeq
  const at = Array.from({ length: MAX_BATCH_ENTRIES }, (_, i) => change('batch-limit', `m${i}`))
  t.match(await sendBatch(encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries: at })), { acked: true })
  t.equal(node.store.lastSeq, before + MAX_BATCH_ENTRIES, 'every entry entered')
  const over = Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => change('batch-over', `m${i}`))
  t.match(await sendBatch(encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries: over })), { acked: false, close: 1009, error: 'BATCH_TOO_LARGE' })
  t.equal(node.store.lastSeq, before + MAX_BATCH_ENTRIES, 'nothing written')
})

t.test('id lengths are counted in UTF-8 bytes: at the limit applies, one byte over is INVALID_FRAME (1007)', async t => {
  // 'é' is 2 bytes: the limits are bytes, not characters.
  const cases: Array<{ name: string, at: Change, over: Change }> = [
    { name: 'user', at: change('é'.repeat(MAX_USER_BYTES / 2), 'u'), over: change('é'.repeat(MAX_USER_BYTES / 2) + 'a', 'u') },
    { name: 'message', at: change('msg-limit', 'é'.repeat(MAX_MESSAGE_BYTES / 2)), over: change('msg-limit', 'é'.repeat(MAX_MESSAGE_BYTES / 2) + 'a') },
    { name: 'origin', at: change('origin-limit', 'at', 'o'.repeat(MAX_NODE_ID_BYTES)), over: change('origin-limit', 'over', 'o'.repeat(MAX_NODE_ID_BYTES + 1)) }
  ]
  for (const c of cases) {
    const before = node.store.lastSeq
    t.match(await sendBatch(encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries: [c.at] })), { acked: true }, `${c.name} at the limit`)
    t.equal(node.store.lastSeq, before + 1)
    t.match(await sendBatch(encodeFrame({ type: 'batch', prev: 0, round: 0, seq: 1, entries: [c.over] })), { acked: false, close: 1007, error: 'INVALID_FRAME' }, `${c.name} over the limit`)
    t.equal(node.store.lastSeq, before + 1, `${c.name}: nothing written`)
  }
})

t.test('hello limits: cluster name bytes and offered versions', async t => {
  const hello = (cluster: string, versions: number[]): Buffer => encodeFrame({ type: 'hello', versions, cluster, node: 'x', nonce: Buffer.alloc(32, 1), time: Date.now() })
  const attempt = async (bytes: Buffer): Promise<string | undefined> => {
    const p = await RawPeer.connect(node.port)
    p.send(bytes)
    await p.waitClosed()
    return p.errorCode()
  }
  // At the limit the validator lets them through; the handshake then refuses them for what they are.
  t.equal(await attempt(hello('c'.repeat(MAX_CLUSTER_BYTES), [1])), 'WRONG_CLUSTER', 'a 64-byte cluster name is read (and is not ours)')
  t.equal(await attempt(hello('c'.repeat(MAX_CLUSTER_BYTES + 1), [1])), 'INVALID_FRAME', 'a 65-byte one is not')
  t.equal(await attempt(hello('test', Array.from({ length: MAX_OFFERED_VERSIONS }, (_, i) => 100 + i))), 'UNSUPPORTED_VERSION', '16 versions are read (none ours)')
  t.equal(await attempt(hello('test', Array.from({ length: MAX_OFFERED_VERSIONS + 1 }, (_, i) => i + 1))), 'INVALID_FRAME', '17 are not, even with ours among them')
})

t.test('MAX_FRAME_DEPTH: nesting at the limit decodes, one level deeper is INVALID_FRAME', async t => {
  const nested = (depth: number): unknown => { let v: unknown = 1; for (let i = 0; i < depth; i++) v = [v]; return v }
  // The frame map is depth 0, so a field value at depth 1 may hold MAX_FRAME_DEPTH - 1 more levels.
  const at = raw.pack({ type: 'ping', t0: 1, extra: nested(MAX_FRAME_DEPTH - 1) })
  const over = raw.pack({ type: 'ping', t0: 1, extra: nested(MAX_FRAME_DEPTH) })
  t.match(decodeFrame(at), { type: 'ping', t0: 1 })
  t.throws(() => decodeFrame(over), { code: 'INVALID_FRAME' })
  // And over a socket: the depth check closes the session before anything is decoded.
  const p = await RawPeer.connect(node.port)
  await p.handshake('x', 'a')
  p.send(at)
  t.match(await p.next('pong'), { t0: 1 }, 'at the limit: answered')
  p.send(over)
  t.equal((await p.waitClosed()).code, 1007)
  t.equal(p.errorCode(), 'INVALID_FRAME')
})
