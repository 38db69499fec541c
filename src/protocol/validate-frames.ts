/**
 * One validator per frame type. Input is the output of the msgpack decoder, so it is
 * untrusted: every field is checked for type and range, unknown fields are ignored
 * (a later minor change may add optional ones), a missing or wrong field fails the
 * whole frame with INVALID_FRAME, an unknown `type` with UNKNOWN_FRAME.
 */
import { MarksyncError } from '../errors.js'
import { MAX_BATCH_ENTRIES, MAX_CLUSTER_BYTES, MAX_OFFERED_VERSIONS, NONCE_BYTES } from '../limits.js'
import { checkChange, checkNodeId } from '../validate.js'
import { STATUSES, type Change } from '../types.js'
import type {
  AckFrame, AuthFrame, BatchFrame, ErrorFrame, Frame, HelloFrame, HoldFrame, PingFrame,
  PongFrame, ResumeFrame, StateAckFrame, StateFrame, WelcomeFrame
} from './frames.js'

type Obj = Record<string, unknown>

const CLUSTER = /^[A-Za-z0-9._-]+$/
/** HMAC-SHA256 output length. */
const PROOF_BYTES = 32
/** Longest error code and message accepted, in characters. */
const MAX_ERROR_CODE = 64
const MAX_ERROR_MESSAGE = 1024

function bad (message: string): never {
  throw new MarksyncError('INVALID_FRAME', message)
}

function uint (o: Obj, key: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${key} must be a non-negative safe integer`)
  return v
}

function str (o: Obj, key: string, max: number): string {
  const v = o[key]
  if (typeof v !== 'string' || v.length === 0 || v.length > max) bad(`${key} must be a string of 1..${max} characters`)
  return v
}

function bytes (o: Obj, key: string, length: number): Uint8Array {
  const v = o[key]
  if (!(v instanceof Uint8Array) || v.length !== length) bad(`${key} must be ${length} bytes (msgpack bin)`)
  return v
}

function bool (o: Obj, key: string): boolean {
  const v = o[key]
  if (typeof v !== 'boolean') bad(`${key} must be a boolean`)
  return v
}

export function checkCluster (value: unknown): string {
  if (typeof value !== 'string' || Buffer.byteLength(value) > MAX_CLUSTER_BYTES || !CLUSTER.test(value)) {
    bad(`cluster must be 1..${MAX_CLUSTER_BYTES} bytes of [A-Za-z0-9._-]`)
  }
  return value
}

function node (o: Obj): string {
  try {
    return checkNodeId(o.node)
  } catch (err) {
    return bad(`node: ${(err as Error).message}`)
  }
}

/** Wire form of one entry: `[user, message, status, origin, ts]`, status as its index in STATUSES. */
export type WireEntry = [string, string, number, string, number | bigint]

function entries (o: Obj): Change[] {
  const list = o.entries
  if (!Array.isArray(list)) bad('entries must be an array')
  // The scanner already refused longer arrays before decoding; this guards direct callers.
  if (list.length > MAX_BATCH_ENTRIES) throw new MarksyncError('BATCH_TOO_LARGE', `batch of ${list.length} entries exceeds ${MAX_BATCH_ENTRIES}`)
  const out = new Array<Change>(list.length)
  for (let i = 0; i < list.length; i++) {
    const e: unknown = list[i]
    if (!Array.isArray(e) || e.length !== 5) bad(`entries[${i}] must be an array of 5`)
    const status = STATUSES[e[2] as number]
    if (!Number.isInteger(e[2]) || status === undefined) bad(`entries[${i}] status must be 0, 1 or 2`)
    try {
      out[i] = checkChange({ user: e[0], message: e[1], status, origin: e[3], ts: e[4] })
    } catch (err) {
      bad(`entries[${i}]: ${(err as Error).message}`)
    }
  }
  return out
}

const validators: Record<string, (o: Obj) => Frame> = {
  hello: (o): HelloFrame => {
    const versions = o.versions
    if (!Array.isArray(versions) || versions.length === 0 || versions.length > MAX_OFFERED_VERSIONS ||
      !versions.every(v => Number.isSafeInteger(v) && v > 0)) {
      bad(`versions must be 1..${MAX_OFFERED_VERSIONS} positive integers`)
    }
    return { type: 'hello', versions, cluster: checkCluster(o.cluster), node: node(o), nonce: bytes(o, 'nonce', NONCE_BYTES), time: uint(o, 'time') }
  },
  welcome: (o): WelcomeFrame => ({
    type: 'welcome',
    version: uint(o, 'version'),
    cluster: checkCluster(o.cluster),
    node: node(o),
    nonce: bytes(o, 'nonce', NONCE_BYTES),
    time: uint(o, 'time'),
    echo: uint(o, 'echo'),
    proof: bytes(o, 'proof', PROOF_BYTES)
  }),
  auth: (o): AuthFrame => ({ type: 'auth', proof: bytes(o, 'proof', PROOF_BYTES), time: uint(o, 'time'), echo: uint(o, 'echo') }),
  error: (o): ErrorFrame => ({ type: 'error', code: str(o, 'code', MAX_ERROR_CODE), message: typeof o.message === 'string' ? o.message.slice(0, MAX_ERROR_MESSAGE) : '' }),
  ping: (o): PingFrame => ({ type: 'ping', t0: uint(o, 't0') }),
  pong: (o): PongFrame => ({ type: 'pong', t0: uint(o, 't0'), t1: uint(o, 't1'), t2: uint(o, 't2') }),
  batch: (o): BatchFrame => {
    const prev = uint(o, 'prev')
    const seq = uint(o, 'seq')
    if (seq <= prev) bad('seq must be greater than prev')
    return { type: 'batch', prev, seq, round: uint(o, 'round'), entries: entries(o) }
  },
  ack: (o): AckFrame => ({ type: 'ack', seq: uint(o, 'seq') }),
  hold: (o): HoldFrame => {
    const offset = o.offset
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) bad('offset must be a safe integer')
    return { type: 'hold', reason: str(o, 'reason', MAX_ERROR_CODE), offset }
  },
  resume: (o): ResumeFrame => {
    const round = uint(o, 'round')
    if (round < 1) bad('round must be at least 1')
    return { type: 'resume', round }
  },
  state: (o): StateFrame => {
    const chunk = uint(o, 'chunk')
    if (chunk < 1) bad('chunk must be at least 1')
    return { type: 'state', chunk, round: uint(o, 'round'), seq: uint(o, 'seq'), entries: entries(o), done: bool(o, 'done') }
  },
  'state-ack': (o): StateAckFrame => ({ type: 'state-ack', chunk: uint(o, 'chunk') })
}

/** Checks a decoded msgpack value and returns a clean, typed frame. */
export function validateFrame (value: unknown): Frame {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    bad('a frame must be a map')
  }
  const o = value as Obj
  if (typeof o.type !== 'string') bad('a frame must have a string type')
  const validate = Object.hasOwn(validators, o.type) ? validators[o.type] : undefined
  if (validate === undefined) throw new MarksyncError('UNKNOWN_FRAME', `unknown frame type ${JSON.stringify(o.type.slice(0, 32))}`)
  return validate(o)
}
