/**
 * The msgpack profile of the wire: plain maps, arrays, strings, bin, integers, booleans,
 * float64 only for compatibility, no extension types. msgpackr's defaults (records,
 * Map decoding, extensions for Date/Set/BigInt) are switched off or refused so any
 * msgpack decoder can read our frames and we read only what we can check.
 */
import { Packr, Unpackr } from 'msgpackr'
import { MarksyncError } from '../errors.js'
import { STATUSES, type Change } from '../types.js'
import type { Frame, LinkState } from './frames.js'
import { scanFrame } from './scan.js'
import { validateFrame, type WireEntry } from './validate-frames.js'

const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

const UINT32_MAX = 0xffffffff
const STATUS_CODE = new Map(STATUSES.map((s, i) => [s, i]))

/** Integers above 2^32-1 go out as int64 (0xd3): msgpackr would write a float64. */
function int (n: number): number | bigint {
  return n > UINT32_MAX && Number.isSafeInteger(n) ? BigInt(n) : n
}

export function toWireEntry (c: Change): WireEntry {
  return [c.user, c.message, STATUS_CODE.get(c.status) as number, c.origin, int(c.ts)]
}

function strBytes (s: string): number {
  const n = Buffer.byteLength(s)
  return n + (n < 32 ? 1 : n < 256 ? 2 : 3)
}

/** Encoded size of one entry in a batch, in bytes (exact for the profile above). */
export function entryWireBytes (c: Change): number {
  return 1 + strBytes(c.user) + strBytes(c.message) + 1 + strBytes(c.origin) + (c.ts > UINT32_MAX ? 9 : 5)
}

export function encodeFrame (frame: Frame): Buffer {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(frame)) {
    if (key === 'entries') out[key] = (value as Change[]).map(toWireEntry)
    else if (key === 'peers') out[key] = (value as LinkState[]).map(([id, up, have]) => [id, up, int(have)])
    else if (typeof value === 'number') out[key] = int(value)
    else out[key] = value
  }
  return packr.pack(out)
}

/**
 * Bytes → checked frame, or a MarksyncError whose code says how to close:
 * INVALID_FRAME, UNKNOWN_FRAME or BATCH_TOO_LARGE.
 */
export function decodeFrame (data: Uint8Array): Frame {
  scanFrame(data)
  let value: unknown
  try {
    value = unpackr.unpack(data)
  } catch (err) {
    throw new MarksyncError('INVALID_FRAME', `undecodable msgpack: ${(err as Error).message}`, { cause: err })
  }
  return validateFrame(value)
}
