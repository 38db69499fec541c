/**
 * Hostile replication frames, generated from a seeded PRNG so any failing case can be
 * replayed from its seed and index. A case is the raw bytes of one WebSocket message:
 * random bytes; a valid frame; a valid frame with fields replaced by hostile values
 * (wrong types, huge/negative numbers, NaN, huge strings, deep nesting, extension
 * types, length headers far beyond the payload); or a valid encoding mutated bytewise.
 */
import { Packr } from 'msgpackr'
import { NONCE_BYTES, MAX_BATCH_ENTRIES } from '../../src/limits.js'
import { encodeFrame, type Frame, type FrameType } from '../../src/protocol/index.js'
import type { Change } from '../../src/types.js'
import type { Prng } from '../helpers/prng.js'
import { validDigestFrame } from './digest-frame-cases.js'

/** Loose encoder: packs whatever a mutation puts in (floats, bigints, Maps, Dates...). */
const loose = new Packr({ useRecords: false, variableMapSize: true })
const plain = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

export const FRAME_TYPES: readonly FrameType[] = [
  'hello', 'welcome', 'auth', 'error', 'ping', 'pong', 'batch', 'ack', 'hold', 'resume', 'state', 'state-ack', 'links',
  'ae-root', 'ae-buckets', 'ae-users', 'ae-digests', 'ae-pull', 'ae-winners', 'ae-push', 'ae-pushed'
]

/** Users of fuzz-made entries start with this, so they never collide with honest ones. */
export const FUZZ_USER_PREFIX = 'fz-'

export interface FrameContext {
  cluster: string
  /** The node id the fuzzer claims. */
  node: string
  /** The node id of the target. */
  target: string
  /** Wall clock, ms. */
  now: number
}

/** Raw msgpack snippets that a mutation splices in where a field value belongs. */
const RAW_VALUES: ReadonlyArray<(r: Prng) => Buffer> = [
  () => Buffer.from([0xd4, 0x01, 0x00]), // fixext1
  () => Buffer.from([0xd6, 0xff, 0, 0, 0, 1]), // timestamp32 extension (msgpackr would make a Date)
  r => Buffer.from([0xc7, 3, r.int(0, 255), 1, 2, 3]), // ext8
  () => Buffer.from([0xc8, 0xff, 0xff, 0x05]), // ext16 whose length runs past the end
  () => Buffer.from([0xc9, 0xff, 0xff, 0xff, 0xff, 0x05]), // ext32, 4 GiB claimed
  () => Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), // str32, 4 GiB claimed
  () => Buffer.from([0xc6, 0x7f, 0xff, 0xff, 0xff, 0x00]), // bin32, 2 GiB claimed
  () => Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32, 4 G items claimed
  () => Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), // map32, 4 G pairs claimed
  () => Buffer.from([0xdc, 0x13, 0x89]), // array16 of MAX_BATCH_ENTRIES + 1 items, none present
  () => Buffer.from([0xc1]), // never-used type byte
  () => Buffer.from([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), // float64 NaN
  () => Buffer.from([0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]), // float64 +Infinity
  () => Buffer.from([0xca, 0xff, 0x80, 0, 0]), // float32 -Infinity
  () => Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // uint64 max
  () => Buffer.from([0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]), // int64 min
  () => Buffer.from([0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0]), // 2^53, one past safe
  r => Buffer.concat([Buffer.alloc(r.int(5, 40), 0x91), Buffer.from([0x01])]), // deep nesting
  r => Buffer.concat([Buffer.alloc(r.int(5, 40), 0x81).map((_, i) => i % 2 === 0 ? 0x81 : 0xa1), Buffer.from([0xc0])]) // nested maps, broken
]

// Built once: making them per case would cost more than decoding them.
const LONG_STRINGS = [255, 256, 257, 511, 512, 513, 65_535, 65_536, 200_000].map(n => 'x'.repeat(n))
const LONG_ARRAYS = [100, 5_001, 70_000].map(n => Array.from({ length: n }, (_, i) => i))

/** Hostile JavaScript values that the loose encoder packs in place of a field. */
function hostileValue (r: Prng, depth = 0): unknown {
  switch (r.int(0, 22)) {
    case 0: return null
    case 1: return r.chance(0.5)
    case 2: return -r.int(1, 2 ** 31)
    case 3: return r.next() * 1e6
    case 4: return NaN
    case 5: return r.chance(0.5) ? Infinity : -Infinity
    case 6: return 2 ** r.int(53, 1000)
    case 7: return -(2 ** r.int(31, 1000))
    case 8: return BigInt(2) ** BigInt(r.int(53, 63))
    case 9: return -(BigInt(2) ** BigInt(r.int(53, 63)))
    case 10: return ''
    case 11: return randomString(r, r.int(1, 64))
    case 12: return LONG_STRINGS[r.chance(0.1) ? LONG_STRINGS.length - 1 : r.int(0, LONG_STRINGS.length - 2)]
    case 13: return Buffer.alloc(r.pick([0, 1, 31, 32, 33, 1000]), r.int(0, 255))
    case 14: return []
    case 15: return {}
    case 16: return depth > 2 ? 1 : Array.from({ length: r.int(1, 5) }, () => hostileValue(r, depth + 1))
    case 17: return depth > 2 ? 1 : { [randomString(r, 4)]: hostileValue(r, depth + 1) }
    case 18: { let v: unknown = 1; for (let i = r.int(3, 30); i > 0; i--) v = [v]; return v }
    case 19: return new Date(r.int(0, 2 ** 40))
    case 20: return { __proto__: { polluted: 1 }, constructor: { prototype: { polluted: 1 } } }
    case 21: return LONG_ARRAYS[r.chance(0.1) ? LONG_ARRAYS.length - 1 : r.int(0, LONG_ARRAYS.length - 2)]
    default: return r.int(0, 2 ** 32 + 5)
  }
}

export function randomString (r: Prng, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) {
    const k = r.int(0, 9)
    s += k < 6 ? String.fromCharCode(r.int(0x61, 0x7a)) : k < 7 ? String.fromCharCode(r.int(0, 0x20)) : k < 8 ? String.fromCharCode(r.int(0xd800, 0xdfff)) : k < 9 ? '/' : String.fromCodePoint(r.int(0x80, 0x10ffff))
  }
  return s
}

function nonce (r: Prng): Buffer {
  const b = Buffer.alloc(NONCE_BYTES)
  for (let i = 0; i < b.length; i++) b[i] = r.int(0, 255)
  return b
}

/** A change the validators accept; its user is always in the fuzz namespace. */
export function validChange (r: Prng, c: FrameContext): Change {
  return {
    user: FUZZ_USER_PREFIX + randomString(r, r.int(1, 8)).replace(/[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/g, 'a'),
    message: `m${r.int(0, 50)}`,
    status: r.pick(['read', 'unread', 'deleted'] as const),
    origin: r.pick([c.node, c.target, 'other', 'z.z']),
    // Mostly around now; sometimes far ahead, so the clock-skew refusal is exercised too.
    ts: (c.now + (r.chance(0.9) ? -r.int(0, 10_000) : r.int(0, 10 ** 9))) * 1024 + r.int(0, 1023)
  }
}

/** A well-formed frame of `type` (it may still be wrong for the session's state). */
export function validFrame (r: Prng, type: FrameType, c: FrameContext): Frame {
  const n = (): number => r.chance(0.8) ? r.int(0, 1000) : r.int(0, Number.MAX_SAFE_INTEGER)
  switch (type) {
    case 'hello': return { type, versions: [1], cluster: c.cluster, node: c.node, nonce: nonce(r), time: c.now }
    case 'welcome': return { type, version: 1, cluster: c.cluster, node: c.target, nonce: nonce(r), time: c.now, echo: c.now, proof: nonce(r) }
    case 'auth': return { type, proof: nonce(r), time: c.now, echo: c.now }
    case 'error': return { type, code: r.pick(['AUTH_FAILED', 'X', 'SHUTTING_DOWN']), message: randomString(r, 10) }
    case 'ping': return { type, t0: c.now }
    case 'pong': return { type, t0: c.now, t1: c.now + r.int(-5, 5), t2: c.now }
    case 'batch': {
      const prev = n()
      return { type, prev, round: r.int(0, 2), seq: prev + r.int(1, 100), entries: Array.from({ length: r.int(0, 4) }, () => validChange(r, c)) }
    }
    case 'ack': return { type, seq: n() }
    case 'hold': return { type, reason: 'CLOCK_SKEW', offset: r.int(-1e9, 1e9) }
    case 'resume': return { type, round: r.int(0, 3) }
    case 'state': return { type, chunk: r.int(1, 3), round: r.int(0, 2), seq: n(), entries: Array.from({ length: r.int(0, 4) }, () => validChange(r, c)), done: r.chance(0.5) }
    case 'state-ack': return { type, chunk: r.int(0, 3) }
    case 'links': return { type, peers: [[c.target, r.chance(0.5), n()], [c.node, r.chance(0.5), n()]] }
    default: return validDigestFrame(r, type, () => validChange(r, c))
  }
}

/** The encoded frame as a plain map, entries in wire form, so fields can be replaced. */
function wireObject (frame: Frame): Record<string, unknown> {
  return plain.unpack(encodeFrame(frame)) as Record<string, unknown>
}

const MARKER = 'ZZ_FUZZ_RAW_ZZ'

/** Replace one field (or one entry field) by a hostile value, raw bytes, or remove it. */
function mutateFields (r: Prng, frame: Frame): Buffer {
  const o = wireObject(frame)
  let raw: Buffer | undefined
  for (let k = r.int(1, 3); k > 0; k--) {
    const keys = Object.keys(o)
    const key = r.chance(0.1) || keys.length === 0 ? randomString(r, 5) : r.pick(keys)
    const entries = o.entries
    if (Array.isArray(entries) && entries.length > 0 && r.chance(0.4)) {
      const entry = r.pick(entries)
      if (!Array.isArray(entry)) continue
      const i = r.int(0, 5)
      if (raw === undefined && r.chance(0.3)) { raw = r.pick(RAW_VALUES)(r); entry[i] = MARKER } else entry[i] = hostileValue(r)
      if (r.chance(0.1)) entry.length = r.int(0, 7)
      continue
    }
    const action = r.int(0, 9)
    if (action === 0) delete o[key]
    else if (action <= 2 && raw === undefined) { raw = r.pick(RAW_VALUES)(r); o[key] = MARKER } else o[key] = hostileValue(r)
  }
  if (r.chance(0.05)) o.type = r.pick([...FRAME_TYPES, 'gossip', '', 'hello\u0000', 'constructor', '__proto__', 'toString'])
  let bytes: Buffer
  try {
    bytes = loose.pack(o)
  } catch {
    bytes = encodeFrame(frame)
  }
  if (raw === undefined) return bytes
  const marker = loose.pack(MARKER)
  const at = bytes.indexOf(marker)
  return at < 0 ? bytes : Buffer.concat([bytes.subarray(0, at), raw, bytes.subarray(at + marker.length)])
}

/** Bytewise damage to a valid encoding. */
function mutateBytes (r: Prng, bytes: Buffer): Buffer {
  let b = Buffer.from(bytes)
  for (let k = r.int(1, 4); k > 0; k--) {
    const at = r.int(0, Math.max(0, b.length - 1))
    switch (r.int(0, 6)) {
      case 0: if (b.length > 0) b[at] = (b[at] as number) ^ (1 << r.int(0, 7)); break
      case 1: if (b.length > 0) b[at] = r.int(0, 255); break
      case 2: b = b.subarray(0, at); break
      case 3: b = Buffer.concat([b, Buffer.from(Array.from({ length: r.int(1, 16) }, () => r.int(0, 255)))]); break
      case 4: b = Buffer.concat([b.subarray(0, at), Buffer.from([r.pick([0xc1, 0xd4, 0xc7, 0xdb, 0xdd, 0xdf, 0xc6, 0xcf, 0xcb])]), b.subarray(at)]); break
      case 5: b = Buffer.concat([b.subarray(0, at), b.subarray(at + r.int(1, 8))]); break
      default: {
        // Inflate the first length header found after `at`: claims far more than is there.
        for (let i = at; i < b.length; i++) {
          const h = b[i] as number
          if (h === 0xdc || h === 0xde || h === 0xda || h === 0xc5) { if (i + 3 <= b.length) b.writeUInt16BE(r.pick([0xffff, MAX_BATCH_ENTRIES + 1]), i + 1); break }
          if (h === 0xdd || h === 0xdf || h === 0xdb || h === 0xc6) { if (i + 5 <= b.length) b.writeUInt32BE(0xffffffff, i + 1); break }
        }
      }
    }
  }
  return b
}

export function randomBytes (r: Prng, length: number): Buffer {
  const b = Buffer.alloc(length)
  for (let i = 0; i < length; i++) b[i] = r.int(0, 255)
  return b
}

export type CaseKind = 'random' | 'valid' | 'fields' | 'bytes'

export interface FrameCase {
  kind: CaseKind
  type: FrameType
  bytes: Buffer
}

/** One hostile message; `types` narrows the frame types it starts from. */
export function frameCase (r: Prng, c: FrameContext, types: readonly FrameType[] = FRAME_TYPES): FrameCase {
  try {
    return makeCase(r, c, types)
  } catch {
    // A generator slip (not the code under test) must not end a long run: random bytes instead.
    return { kind: 'random', type: 'ping', bytes: randomBytes(r, r.int(0, 48)) }
  }
}

function makeCase (r: Prng, c: FrameContext, types: readonly FrameType[]): FrameCase {
  const type = r.pick(types)
  const pick = r.next()
  if (pick < 0.12) {
    const length = r.chance(0.9) ? r.int(0, 48) : r.int(49, 4096)
    const bytes = randomBytes(r, length)
    // Half of them look like a map, so they get past the first byte.
    if (length > 0 && r.chance(0.5)) bytes[0] = 0x80 | r.int(0, 15)
    return { kind: 'random', type, bytes }
  }
  const frame = validFrame(r, type, c)
  if (pick < 0.3) return { kind: 'valid', type, bytes: encodeFrame(frame) }
  if (pick < 0.7) return { kind: 'fields', type, bytes: mutateFields(r, frame) }
  return { kind: 'bytes', type, bytes: mutateBytes(r, encodeFrame(frame)) }
}
