/**
 * Field checks shared by the frame validators. Every failure is INVALID_FRAME (or
 * BATCH_TOO_LARGE for an entry list over the limit), never a partial value.
 */
import { MarksyncError } from '../errors.js'
import { MAX_BATCH_ENTRIES } from '../limits.js'
import { checkChange } from '../validate.js'
import { STATUSES, type Change } from '../types.js'

export type Obj = Record<string, unknown>

export function bad (message: string): never {
  throw new MarksyncError('INVALID_FRAME', message)
}

export function uint (o: Obj, key: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${key} must be a non-negative safe integer`)
  return v
}

export function str (o: Obj, key: string, max: number): string {
  const v = o[key]
  if (typeof v !== 'string' || v.length === 0 || v.length > max) bad(`${key} must be a string of 1..${max} characters`)
  return v
}

export function bytes (o: Obj, key: string, length: number): Uint8Array {
  const v = o[key]
  if (!(v instanceof Uint8Array) || v.length !== length) bad(`${key} must be ${length} bytes (msgpack bin)`)
  return v
}

export function bool (o: Obj, key: string): boolean {
  const v = o[key]
  if (typeof v !== 'boolean') bad(`${key} must be a boolean`)
  return v
}

/** Wire form of one entry: `[user, message, status, origin, ts]`, status as its index in STATUSES. */
export type WireEntry = [string, string, number, string, number | bigint]

export function entries (o: Obj): Change[] {
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
