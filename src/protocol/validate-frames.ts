/**
 * One validator per frame type. Input is the output of the msgpack decoder, so it is
 * untrusted: every field is checked for type and range, unknown fields are ignored
 * (a later minor change may add optional ones), a missing or wrong field fails the
 * whole frame with INVALID_FRAME, an unknown `type` with UNKNOWN_FRAME.
 */
import { MarksyncError } from '../errors.js'
import { MAX_CLUSTER_BYTES, MAX_OFFERED_VERSIONS, MAX_REPORTED_LINKS, NONCE_BYTES } from '../limits.js'
import { checkNodeId } from '../validate.js'
import { bad, bool, bytes, entries, str, uint, type Obj } from './fields.js'
import { digestValidators } from './validate-digest-frames.js'
import type {
  AckFrame, AuthFrame, BatchFrame, ErrorFrame, Frame, HelloFrame, HoldFrame, IncarnationClaim, LinkState,
  LinksFrame, PingFrame, PongFrame, ResumeFrame, StateAckFrame, StateFrame, WelcomeFrame
} from './frames.js'

const CLUSTER = /^[A-Za-z0-9._-]+$/
/** HMAC-SHA256 output length. */
const PROOF_BYTES = 32
/** Longest error code and message accepted, in characters. */
const MAX_ERROR_CODE = 64
const MAX_ERROR_MESSAGE = 1024

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

function links (o: Obj): LinksFrame {
  const list = o.peers
  if (!Array.isArray(list) || list.length > MAX_REPORTED_LINKS) bad(`peers must be an array of at most ${MAX_REPORTED_LINKS}`)
  const peers = list.map((p: unknown, i): LinkState => {
    if (!Array.isArray(p) || p.length !== 3 || typeof p[1] !== 'boolean') bad(`peers[${i}] must be [node id, up, have]`)
    const have = p[2] as unknown
    if (typeof have !== 'number' || !Number.isSafeInteger(have) || have < 0) bad(`peers[${i}] have must be a non-negative safe integer`)
    return [node({ node: p[0] }), p[1], have]
  })
  return { type: 'links', peers }
}

const INCARNATION = /^[A-Za-z0-9._-]{1,64}$/

/** The optional incarnation fields of hello and welcome (absent from older peers). */
function claim (o: Obj): IncarnationClaim {
  const out: IncarnationClaim = {}
  if (o.incarnation !== undefined) {
    if (typeof o.incarnation !== 'string' || !INCARNATION.test(o.incarnation)) bad('incarnation must be 1..64 characters of [A-Za-z0-9._-]')
    out.incarnation = o.incarnation
  }
  if (o.peerIncarnation !== undefined) {
    if (typeof o.peerIncarnation !== 'string' || (o.peerIncarnation !== '' && !INCARNATION.test(o.peerIncarnation))) bad('peerIncarnation must be empty or 1..64 characters of [A-Za-z0-9._-]')
    out.peerIncarnation = o.peerIncarnation
  }
  if (o.seq !== undefined) out.seq = uint(o, 'seq')
  if (o.peerSeq !== undefined) out.peerSeq = uint(o, 'peerSeq')
  return out
}

const validators: Record<string, (o: Obj) => Frame> = {
  hello: (o): HelloFrame => {
    const versions = o.versions
    if (!Array.isArray(versions) || versions.length === 0 || versions.length > MAX_OFFERED_VERSIONS ||
      !versions.every(v => Number.isSafeInteger(v) && v > 0)) {
      bad(`versions must be 1..${MAX_OFFERED_VERSIONS} positive integers`)
    }
    return { type: 'hello', versions, cluster: checkCluster(o.cluster), node: node(o), nonce: bytes(o, 'nonce', NONCE_BYTES), time: uint(o, 'time'), ...claim(o) }
  },
  welcome: (o): WelcomeFrame => ({
    type: 'welcome',
    version: uint(o, 'version'),
    cluster: checkCluster(o.cluster),
    node: node(o),
    nonce: bytes(o, 'nonce', NONCE_BYTES),
    time: uint(o, 'time'),
    echo: uint(o, 'echo'),
    proof: bytes(o, 'proof', PROOF_BYTES),
    ...claim(o)
  }),
  auth: (o): AuthFrame => ({ type: 'auth', proof: bytes(o, 'proof', PROOF_BYTES), time: uint(o, 'time'), echo: uint(o, 'echo') }),
  error: (o): ErrorFrame => ({ type: 'error', code: str(o, 'code', MAX_ERROR_CODE), message: typeof o.message === 'string' ? o.message.slice(0, MAX_ERROR_MESSAGE) : '' }),
  ping: (o): PingFrame => ({ type: 'ping', t0: uint(o, 't0') }),
  pong: (o): PongFrame => ({ type: 'pong', t0: uint(o, 't0'), t1: uint(o, 't1'), t2: uint(o, 't2') }),
  batch: (o): BatchFrame => {
    const prev = uint(o, 'prev')
    const seq = uint(o, 'seq')
    if (seq <= prev) bad('seq must be greater than prev')
    const frame: BatchFrame = { type: 'batch', prev, seq, round: uint(o, 'round'), entries: entries(o) }
    if (o.resend === true) frame.resend = true
    return frame
  },
  ack: (o): AckFrame => ({ type: 'ack', seq: uint(o, 'seq') }),
  hold: (o): HoldFrame => {
    const offset = o.offset
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) bad('offset must be a safe integer')
    const hold: HoldFrame = { type: 'hold', reason: str(o, 'reason', MAX_ERROR_CODE), offset }
    if (o.until !== undefined) hold.until = uint(o, 'until')
    return hold
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
  'state-ack': (o): StateAckFrame => ({ type: 'state-ack', chunk: uint(o, 'chunk') }),
  links,
  ...digestValidators
}

export type { WireEntry } from './fields.js'

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
