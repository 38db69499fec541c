/**
 * Compact binary values of the store. Every record starts with its format
 * version byte; a record written by a newer version is refused with
 * `STORE_VERSION` instead of being misread. Numbers are float64 big-endian:
 * `ts`, times and seqs are safe integers, which a double holds exactly.
 *
 * Feed entry (key: seq):
 *   u8 version | u8 status | f64 ts | f64 localTime | u8 originLen origin
 *   | u8 fromLen from (0: made here) | u16 userLen user | message (rest)
 * Winner (key: user, message):
 *   u8 version | u8 status | f64 ts | f64 localTime | f64 seq | u8 originLen origin
 */
import { MarksyncError } from '../errors.js'
import type { Status } from '../types.js'

/** Format version of the records this code writes. */
export const RECORD_VERSION = 1

/**
 * The value of a record whose key is the whole information (per-user log, unread table):
 * the version byte alone. Never zero bytes: classic-level 3.0.0 copies every value into a
 * fresh allocation and frees the copy only when it is not empty, so each empty value put
 * leaked one allocation (32 bytes with glibc's malloc, 8 with jemalloc), about 1.6 per
 * change. Readers ignore the value; stores written with empty values read the same.
 */
export const MARKER = Buffer.from([RECORD_VERSION])

const STATUS_CODES: readonly Status[] = ['read', 'unread', 'deleted']
const STATUS_OF: Record<Status, number> = { read: 0, unread: 1, deleted: 2 }

export interface FeedRecord {
  user: string
  message: string
  status: Status
  origin: string
  ts: number
  localTime: number
  from?: string
}

export interface WinnerRecord {
  status: Status
  origin: string
  ts: number
  localTime: number
  seq: number
}

function checkVersion (value: Buffer, what: string): void {
  if (value.length < 2 || value[0] === 0) throw new MarksyncError('STORE_CORRUPT', `${what} record is empty or has no version`)
  if (value[0] > RECORD_VERSION) {
    throw new MarksyncError('STORE_VERSION', `${what} record has format version ${value[0]}; this marksync reads up to ${RECORD_VERSION}`)
  }
}

function statusAt (value: Buffer, offset: number): Status {
  const status = STATUS_CODES[value[offset]]
  if (status === undefined) throw new MarksyncError('STORE_CORRUPT', `unknown status code ${value[offset]}`)
  return status
}

export function encodeFeed (r: FeedRecord): Buffer {
  const origin = Buffer.from(r.origin, 'latin1')
  const from = r.from === undefined ? 0 : Buffer.byteLength(r.from, 'latin1')
  const user = Buffer.byteLength(r.user, 'utf8')
  const message = Buffer.byteLength(r.message, 'utf8')
  const out = Buffer.allocUnsafe(18 + 1 + origin.length + 1 + from + 2 + user + message)
  out[0] = RECORD_VERSION
  out[1] = STATUS_OF[r.status]
  out.writeDoubleBE(r.ts, 2)
  out.writeDoubleBE(r.localTime, 10)
  let at = 18
  out[at++] = origin.length
  at += origin.copy(out, at)
  out[at++] = from
  if (r.from !== undefined) at += out.write(r.from, at, 'latin1')
  out.writeUInt16BE(user, at)
  at += 2
  at += out.write(r.user, at, 'utf8')
  out.write(r.message, at, 'utf8')
  return out
}

export function decodeFeed (value: Buffer): FeedRecord {
  checkVersion(value, 'feed')
  const status = statusAt(value, 1)
  const ts = value.readDoubleBE(2)
  const localTime = value.readDoubleBE(10)
  let at = 18
  const originLen = value[at++]
  const origin = value.toString('latin1', at, at + originLen)
  at += originLen
  const fromLen = value[at++]
  const from = fromLen === 0 ? undefined : value.toString('latin1', at, at + fromLen)
  at += fromLen
  const userLen = value.readUInt16BE(at)
  at += 2
  const user = value.toString('utf8', at, at + userLen)
  const message = value.toString('utf8', at + userLen)
  const record: FeedRecord = { user, message, status, origin, ts, localTime }
  if (from !== undefined) record.from = from
  return record
}

export function encodeWinner (r: WinnerRecord): Buffer {
  const originLen = r.origin.length
  const out = Buffer.allocUnsafe(27 + originLen)
  out[0] = RECORD_VERSION
  out[1] = STATUS_OF[r.status]
  out.writeDoubleBE(r.ts, 2)
  out.writeDoubleBE(r.localTime, 10)
  out.writeDoubleBE(r.seq, 18)
  out[26] = originLen
  out.write(r.origin, 27, 'latin1')
  return out
}

export function decodeWinner (value: Buffer): WinnerRecord {
  checkVersion(value, 'winner')
  return {
    status: statusAt(value, 1),
    ts: value.readDoubleBE(2),
    localTime: value.readDoubleBE(10),
    seq: value.readDoubleBE(18),
    origin: value.toString('latin1', 27, 27 + value[26])
  }
}

/** A versioned record of plain numbers (counts, cursors, the store's state). */
export function encodeNumbers (numbers: number[]): Buffer {
  const out = Buffer.allocUnsafe(1 + 8 * numbers.length)
  out[0] = RECORD_VERSION
  numbers.forEach((n, i) => out.writeDoubleBE(n, 1 + 8 * i))
  return out
}

export function decodeNumbers (value: Buffer, count: number, what: string): number[] {
  checkVersion(value, what)
  if (value.length < 1 + 8 * count) throw new MarksyncError('STORE_CORRUPT', `${what} record is too short`)
  const numbers: number[] = []
  for (let i = 0; i < count; i++) numbers.push(value.readDoubleBE(1 + 8 * i))
  return numbers
}
