/**
 * Discarded changes: a change from a peer that lost to the winner it met here is kept,
 * so `explain` can show it with why it lost. Written in the same atomic batch as the
 * apply that discarded it; purged with the log (by local time).
 *
 * Key: family `discard` | user | message | origin (string components, keys.ts) | ts (8 bytes).
 * One key per distinct change, so the same stale change arriving again overwrites its
 * record instead of adding one. A copy of the winner itself (a duplicate) is not kept:
 * it is the entered change, already in the log.
 * Value: u8 version | u8 status | f64 localTime | f64 winnerTs | u8 fromLen from
 *        | u8 winnerOriginLen winnerOrigin
 */
import type { Level } from 'level'
import { MAX_HISTORY_ROWS } from '../limits.js'
import { MarksyncError } from '../errors.js'
import type { Change, Status } from '../types.js'
import { RECORD_VERSION, type WinnerRecord } from './codec.js'
import { FAMILY, prefixEnd, readComponent, readSeq, winnerKey } from './keys.js'

type Db = Level<Buffer, Buffer>

export interface DiscardRecord {
  status: Status
  origin: string
  ts: number
  /** This node's clock when the change arrived, in ms. */
  localTime: number
  /** The peer it came from; absent for an import. */
  from?: string
  /** The winner it lost to. */
  winnerTs: number
  winnerOrigin: string
}

const STATUS_CODES: readonly Status[] = ['read', 'unread', 'deleted']

/** The prefix of every discard key of one message: its winner key in another family. */
function messagePrefix (user: string, message: string): Buffer {
  const key = winnerKey(user, message)
  key[0] = FAMILY.discard
  return key
}

export function discardKey (change: Change): Buffer {
  const prefix = messagePrefix(change.user, change.message)
  const key = Buffer.alloc(prefix.length + change.origin.length + 2 + 8)
  prefix.copy(key)
  // Node ids are [A-Za-z0-9._-]: no 0x00 to escape before the 00 00 terminator.
  key.write(change.origin, prefix.length, 'latin1')
  key.writeUInt32BE(Math.floor(change.ts / 2 ** 32), key.length - 8)
  key.writeUInt32BE(change.ts % 2 ** 32, key.length - 4)
  return key
}

export function encodeDiscard (change: Change, localTime: number, from: string | undefined, winner: WinnerRecord): Buffer {
  const fromLen = from === undefined ? 0 : from.length
  const out = Buffer.alloc(26 + fromLen + winner.origin.length)
  out[0] = RECORD_VERSION
  out[1] = STATUS_CODES.indexOf(change.status)
  out.writeDoubleBE(localTime, 2)
  out.writeDoubleBE(winner.ts, 10)
  out[18] = fromLen
  if (from !== undefined) out.write(from, 19, 'latin1')
  out[19 + fromLen] = winner.origin.length
  out.write(winner.origin, 20 + fromLen, 'latin1')
  return out
}

function decodeDiscard (key: Buffer, value: Buffer, prefixLength: number): DiscardRecord {
  if (value[0] !== RECORD_VERSION) throw new MarksyncError('STORE_VERSION', `discard record has format version ${value[0]}`)
  const origin = readComponent(key, prefixLength)
  const fromLen = value[18]
  const record: DiscardRecord = {
    status: STATUS_CODES[value[1]] ?? 'read',
    origin: origin.value,
    ts: readSeq(key, origin.end),
    localTime: value.readDoubleBE(2),
    winnerTs: value.readDoubleBE(10),
    winnerOrigin: value.toString('latin1', 20 + fromLen, 20 + fromLen + value[19 + fromLen])
  }
  if (fromLen > 0) record.from = value.toString('latin1', 19, 19 + fromLen)
  return record
}

/** The discarded changes kept for one message, at most MAX_HISTORY_ROWS. */
export async function readDiscards (db: Db, user: string, message: string): Promise<DiscardRecord[]> {
  const prefix = messagePrefix(user, message)
  const rows = await db.iterator({ gt: prefix, lt: prefixEnd(prefix), limit: MAX_HISTORY_ROWS }).all()
  return rows.map(([key, value]) => decodeDiscard(key, value, prefix.length))
}

/**
 * One chunk of the discard purge, in key order from `after`: deletes records whose local
 * time is older than `olderThan`. Returns where to go on, or null when the family is done.
 */
export async function purgeDiscards (
  db: Db, after: Buffer | null, olderThan: number, chunk: number, options: { sync: boolean }
): Promise<{ removed: number, next: Buffer | null }> {
  const rows = await db.iterator({ gt: after ?? Buffer.of(FAMILY.discard), lt: Buffer.of(FAMILY.discard + 1), limit: chunk }).all()
  const old = rows.filter(([, value]) => value.readDoubleBE(2) < olderThan).map(([key]) => ({ type: 'del' as const, key }))
  if (old.length > 0) await db.batch(old, options)
  const last = rows[rows.length - 1]
  return { removed: old.length, next: rows.length < chunk || last === undefined ? null : last[0] }
}
