import t from 'tap'
import { Packr } from 'msgpackr'
import { decodeFrame, encodeFrame, entryWireBytes } from '../../src/protocol/codec.js'
import { validateFrame } from '../../src/protocol/validate-frames.js'
import { scanFrame } from '../../src/protocol/scan.js'
import { MAX_BATCH_ENTRIES, MAX_FRAME_DEPTH } from '../../src/limits.js'
import type { Change } from '../../src/types.js'

const raw = new Packr({ useRecords: false, variableMapSize: true })
const ts = 1_700_000_000_000 * 1024 + 7

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

t.test('every frame type round-trips', async t => {
  const nonce = new Uint8Array(32).fill(1)
  const proof = new Uint8Array(32).fill(2)
  const entries: Change[] = [
    { user: 'u1', message: 'm1', status: 'unread', origin: 'a', ts },
    { user: 'ü', message: 'x'.repeat(300), status: 'deleted', origin: 'node-b', ts: 5 }
  ]
  const frames = [
    { type: 'hello', versions: [1, 2], cluster: 'c', node: 'a', nonce, time: 1_700_000_000_000 },
    { type: 'welcome', version: 1, cluster: 'c', node: 'b', nonce, time: 1, echo: 2, proof },
    { type: 'auth', proof, time: 3, echo: 4 },
    { type: 'error', code: 'AUTH_FAILED', message: 'no' },
    { type: 'ping', t0: 1_700_000_000_000 },
    { type: 'pong', t0: 1, t1: 2, t2: 3 },
    { type: 'batch', prev: 2 ** 40 - 5, seq: 2 ** 40, round: 0, entries },
    { type: 'ack', seq: 9 },
    { type: 'hold', reason: 'CLOCK_SKEW', offset: -600_000 },
    { type: 'resume', round: 1 },
    { type: 'state', chunk: 1, round: 2, seq: 10, entries, done: true },
    { type: 'state-ack', chunk: 1 }
  ] as const
  for (const f of frames) {
    const bytes = encodeFrame(f as never)
    const back = decodeFrame(bytes) as unknown as Record<string, unknown>
    for (const [k, v] of Object.entries(f)) {
      if (v instanceof Uint8Array) t.same(Buffer.from(back[k] as Uint8Array), Buffer.from(v), `${f.type}.${k}`)
      else t.same(back[k], v, `${f.type}.${k}`)
    }
  }
})

t.test('large integers travel as int64, and float64 integers are accepted', async t => {
  const bytes = encodeFrame({ type: 'ack', seq: 2 ** 40 })
  t.equal(bytes.toString('hex'), '82a474797065a361636ba3736571d30000010000000000')
  t.same(decodeFrame(raw.pack({ type: 'ack', seq: 2 ** 40 })), { type: 'ack', seq: 2 ** 40 }, 'msgpackr float64')
  t.equal(codeOf(() => decodeFrame(raw.pack({ type: 'ack', seq: 1.5 }))), 'INVALID_FRAME')
  t.equal(codeOf(() => decodeFrame(Buffer.from('82a474797065a361636ba3736571cf0020000000000001', 'hex'))), 'INVALID_FRAME', 'beyond 2^53')
})

t.test('entry size estimate is exact', async t => {
  const entries: Change[] = [{ user: 'u'.repeat(40), message: 'm'.repeat(300), status: 'read', origin: 'abc', ts }]
  const one = encodeFrame({ type: 'batch', prev: 0, seq: 1, round: 0, entries }).length
  const two = encodeFrame({ type: 'batch', prev: 0, seq: 1, round: 0, entries: [entries[0], entries[0]] }).length
  t.equal(two - one, entryWireBytes(entries[0]))
})

t.test('fails closed on what the profile excludes', async t => {
  const ok = encodeFrame({ type: 'ack', seq: 1 })
  t.equal(codeOf(() => decodeFrame(Buffer.from([0xc1]))), 'INVALID_FRAME', 'never-used byte')
  t.equal(codeOf(() => decodeFrame(Buffer.concat([ok, ok]))), 'INVALID_FRAME', 'trailing bytes')
  t.equal(codeOf(() => decodeFrame(ok.subarray(0, ok.length - 1))), 'INVALID_FRAME', 'truncated')
  t.equal(codeOf(() => decodeFrame(Buffer.from('d6ff00000001', 'hex'))), 'INVALID_FRAME', 'timestamp extension')
  t.equal(codeOf(() => decodeFrame(raw.pack({ type: 'ack', seq: new Date() }))), 'INVALID_FRAME', 'date extension')
  t.equal(codeOf(() => decodeFrame(Buffer.from('81a474797065', 'hex'))), 'INVALID_FRAME', 'missing value')
  t.equal(codeOf(() => decodeFrame(Buffer.from('8101a3616263', 'hex'))), 'INVALID_FRAME', 'integer key')
  t.equal(codeOf(() => decodeFrame(raw.pack([1, 2]))), 'INVALID_FRAME', 'not a map')
  t.equal(codeOf(() => decodeFrame(raw.pack('ack'))), 'INVALID_FRAME', 'a string')
  t.equal(codeOf(() => decodeFrame(raw.pack({ seq: 1 }))), 'INVALID_FRAME', 'no type')
  t.equal(codeOf(() => decodeFrame(raw.pack({ type: 'gossip' }))), 'UNKNOWN_FRAME')
  t.equal(codeOf(() => decodeFrame(raw.pack({ type: 'toString' }))), 'UNKNOWN_FRAME', 'prototype names are not types')
  let deep: unknown = 1
  for (let i = 0; i <= MAX_FRAME_DEPTH; i++) deep = [deep]
  t.equal(codeOf(() => scanFrame(raw.pack({ type: 'ack', x: deep }))), 'INVALID_FRAME', 'too deep')
  // an array32 header claiming 2^32-1 items: refused on the header, nothing allocated
  t.equal(codeOf(() => decodeFrame(Buffer.from('82a474797065a56261746368a7656e7472696573ddffffffff', 'hex'))), 'BATCH_TOO_LARGE')
  t.equal(codeOf(() => decodeFrame(Buffer.from('df00010000', 'hex'))), 'INVALID_FRAME', 'huge map')
})

t.test('validators check every field', async t => {
  const good = { user: 'u', message: 'm', status: 'read', origin: 'a', ts } as const
  const batch = (entries: unknown[]): unknown => ({ type: 'batch', prev: 0, seq: 1, round: 0, entries })
  t.equal(codeOf(() => validateFrame(batch([['u', 'm', 3, 'a', ts]]))), 'INVALID_FRAME', 'status 3')
  t.equal(codeOf(() => validateFrame(batch([['u', 'm', 0, 'a b', ts]]))), 'INVALID_FRAME', 'bad origin')
  t.equal(codeOf(() => validateFrame(batch([['', 'm', 0, 'a', ts]]))), 'INVALID_FRAME', 'empty user')
  t.equal(codeOf(() => validateFrame(batch([['u', 'm', 0, 'a', 0]]))), 'INVALID_FRAME', 'zero ts')
  t.equal(codeOf(() => validateFrame(batch([['u', 'm', 0, 'a']]))), 'INVALID_FRAME', 'short entry')
  t.equal(codeOf(() => validateFrame(batch([good]))), 'INVALID_FRAME', 'entry as map')
  t.equal(codeOf(() => validateFrame({ type: 'batch', prev: 0, seq: -1, round: 0, entries: [] })), 'INVALID_FRAME', 'negative seq')
  t.equal(codeOf(() => validateFrame({ type: 'batch', prev: 5, seq: 5, round: 0, entries: [] })), 'INVALID_FRAME', 'empty range')
  t.equal(codeOf(() => validateFrame(batch(new Array(MAX_BATCH_ENTRIES + 1).fill(['u', 'm', 0, 'a', ts])))), 'BATCH_TOO_LARGE')
  t.equal(codeOf(() => validateFrame({ type: 'hello', versions: [], cluster: 'c', node: 'a', nonce: new Uint8Array(32), time: 1 })), 'INVALID_FRAME', 'no versions')
  t.equal(codeOf(() => validateFrame({ type: 'hello', versions: [1], cluster: 'c\n', node: 'a', nonce: new Uint8Array(32), time: 1 })), 'INVALID_FRAME', 'bad cluster')
  t.equal(codeOf(() => validateFrame({ type: 'hello', versions: [1], cluster: 'c', node: 'a', nonce: new Uint8Array(31), time: 1 })), 'INVALID_FRAME', 'short nonce')
  t.equal(codeOf(() => validateFrame({ type: 'state', chunk: 0, round: 0, seq: 1, entries: [], done: true })), 'INVALID_FRAME', 'chunk 0')
  t.equal(codeOf(() => validateFrame({ type: 'state', chunk: 1, round: 0, seq: 1, entries: [], done: 1 })), 'INVALID_FRAME', 'done not boolean')
  t.equal(codeOf(() => validateFrame({ type: 'hold', reason: 'CLOCK_SKEW', offset: 0.5 })), 'INVALID_FRAME')
  t.equal(codeOf(() => validateFrame({ type: 'error', code: '', message: 'x' })), 'INVALID_FRAME')
  t.same(validateFrame({ type: 'error', code: 'X', message: 7 }), { type: 'error', code: 'X', message: '' })
  t.same(validateFrame({ type: 'ack', seq: 3, extra: 'ignored' }), { type: 'ack', seq: 3 })
  t.equal(codeOf(() => validateFrame({ type: 'batch', prev: 0, seq: 1, entries: [] })), 'INVALID_FRAME', 'batch without round')
  t.equal(codeOf(() => validateFrame({ type: 'resume' })), 'INVALID_FRAME', 'resume without round')
  t.equal(codeOf(() => validateFrame({ type: 'resume', round: 0 })), 'INVALID_FRAME', 'resume round 0')
})
