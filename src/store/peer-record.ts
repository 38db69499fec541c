/**
 * What this node knows of a peer's incarnation (docs/protocol.md "Incarnations"):
 * which incarnation of the peer it last saw, the highest seq of that incarnation's feed
 * it acknowledged, and whether the peer must get a full state transfer before its cursor
 * is trusted again.
 *
 * Record: u8 version | f64 acked | u8 flags (bit 0: resync) | incarnation (ASCII, rest)
 */
import { MarksyncError } from '../errors.js'
import { RECORD_VERSION } from './codec.js'

export interface PeerRecord {
  /** The peer's incarnation last seen ('' when none is known yet, or a new one is awaited). */
  incarnation: string
  /** Highest seq of the peer's feed (under `incarnation`) this node acknowledged. */
  acked: number
  /** The peer lost state: send it a full state transfer (its own changes included) first. */
  resync: boolean
}

export const NO_PEER_RECORD: Readonly<PeerRecord> = Object.freeze({ incarnation: '', acked: 0, resync: false })

export function encodePeerRecord (r: PeerRecord): Buffer {
  const out = Buffer.alloc(10 + r.incarnation.length)
  out[0] = RECORD_VERSION
  out.writeDoubleBE(r.acked, 1)
  out[9] = r.resync ? 1 : 0
  out.write(r.incarnation, 10, 'latin1')
  return out
}

export function decodePeerRecord (value: Buffer): PeerRecord {
  if (value.length < 10 || value[0] === 0) throw new MarksyncError('STORE_CORRUPT', 'peer record is truncated')
  if (value[0] > RECORD_VERSION) throw new MarksyncError('STORE_VERSION', `peer record has format version ${value[0]}; this marksync reads up to ${RECORD_VERSION}`)
  return { acked: value.readDoubleBE(1), resync: (value[9] & 1) === 1, incarnation: value.toString('latin1', 10) }
}
