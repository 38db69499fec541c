/**
 * Binary keys of the store's families, all in one LevelDB keyspace.
 *
 * A key is one family byte followed by its components. A string component is
 * its UTF-8 bytes with every 0x00 escaped as `00 ff`, ended by `00 00`. The
 * terminator never occurs inside an escaped string, so the encoding is
 * prefix-free: no id, whatever bytes it holds, can end early and run into the
 * next component or another user's range. It also keeps the byte order of the
 * ids, so ranges iterate in (user, message) order. Valid ids hold no 0x00
 * (control characters are refused), which makes escaping a fast no-op there,
 * but the keys do not rely on validation for their safety.
 *
 * A seq is 8 bytes big-endian, so numeric order is byte order.
 */

/** Family bytes. Never reuse a retired value: old records would be misread. */
export const FAMILY = {
  meta: 0x01,
  feed: 0x02,
  log: 0x03,
  winner: 0x04,
  unread: 0x05,
  count: 0x06,
  cursor: 0x07,
  peer: 0x08,
  discard: 0x09
} as const

const TWO_32 = 2 ** 32
const SEQ_BYTES = 8

/** Bytes of the encoded string component (escape + terminator). */
function componentLength (bytes: Buffer): number {
  let zeros = 0
  let at = bytes.indexOf(0)
  while (at !== -1) {
    zeros++
    at = bytes.indexOf(0, at + 1)
  }
  return bytes.length + zeros + 2
}

function writeComponent (bytes: Buffer, target: Buffer, offset: number): number {
  let start = 0
  let at = bytes.indexOf(0)
  while (at !== -1) {
    offset += bytes.copy(target, offset, start, at)
    target[offset++] = 0x00
    target[offset++] = 0xff
    start = at + 1
    at = bytes.indexOf(0, start)
  }
  offset += bytes.copy(target, offset, start)
  target[offset++] = 0x00
  target[offset++] = 0x00
  return offset
}

function writeSeq (seq: number, target: Buffer, offset: number): number {
  target.writeUInt32BE(Math.floor(seq / TWO_32), offset)
  target.writeUInt32BE(seq % TWO_32, offset + 4)
  return offset + SEQ_BYTES
}

export function readSeq (key: Buffer, offset: number): number {
  return key.readUInt32BE(offset) * TWO_32 + key.readUInt32BE(offset + 4)
}

/** Reads one string component at `offset`; returns it and the offset after its terminator. */
export function readComponent (key: Buffer, offset: number): { value: string, end: number } {
  const parts: Buffer[] = []
  let start = offset
  for (let at = key.indexOf(0, offset); at !== -1 && at + 1 < key.length; at = key.indexOf(0, at + 2)) {
    if (key[at + 1] === 0x00) {
      parts.push(key.subarray(start, at))
      return { value: Buffer.concat(parts).toString('utf8'), end: at + 2 }
    }
    parts.push(key.subarray(start, at + 1))
    start = at + 2
  }
  throw new RangeError('unterminated key component')
}

function keyOf (family: number, strings: string[], seq?: number): Buffer {
  // Fast path for ids without 0x00 (every valid id): write the strings straight into the key.
  if (!strings.some(s => s.includes('\u0000'))) {
    let length = 1 + (seq === undefined ? 0 : SEQ_BYTES)
    for (const s of strings) length += Buffer.byteLength(s, 'utf8') + 2
    const key = Buffer.allocUnsafe(length)
    key[0] = family
    let offset = 1
    for (const s of strings) {
      offset += key.write(s, offset, 'utf8')
      key[offset++] = 0x00
      key[offset++] = 0x00
    }
    if (seq !== undefined) writeSeq(seq, key, offset)
    return key
  }
  const utf8 = strings.map(s => Buffer.from(s, 'utf8'))
  let length = 1 + (seq === undefined ? 0 : SEQ_BYTES)
  for (const bytes of utf8) length += componentLength(bytes)
  const key = Buffer.allocUnsafe(length)
  key[0] = family
  let offset = 1
  for (const bytes of utf8) offset = writeComponent(bytes, key, offset)
  if (seq !== undefined) writeSeq(seq, key, offset)
  return key
}

export const metaKey = (name: string): Buffer => Buffer.concat([Buffer.of(FAMILY.meta), Buffer.from(name, 'ascii')])
export const feedKey = (seq: number): Buffer => keyOf(FAMILY.feed, [], seq)
export const logKey = (user: string, seq: number): Buffer => keyOf(FAMILY.log, [user], seq)
export const winnerKey = (user: string, message: string): Buffer => keyOf(FAMILY.winner, [user, message])
export const unreadKey = (user: string, message: string): Buffer => keyOf(FAMILY.unread, [user, message])
export const countKey = (user: string): Buffer => keyOf(FAMILY.count, [user])
export const cursorKey = (peer: string): Buffer => keyOf(FAMILY.cursor, [peer])
export const peerRecordKey = (peer: string): Buffer => keyOf(FAMILY.peer, [peer])

/** `prefix` followed by a seq (a per-user log key from its user prefix). */
export function withSeq (prefix: Buffer, seq: number): Buffer {
  const key = Buffer.allocUnsafe(prefix.length + SEQ_BYTES)
  prefix.copy(key, 0)
  writeSeq(seq, key, prefix.length)
  return key
}

/** The prefix every key of `user` in a per-user family starts with. */
export const userPrefix = (family: number, user: string): Buffer => keyOf(family, [user])

/** The first key after every key that starts with `prefix` (for `lt` bounds). */
export function prefixEnd (prefix: Buffer): Buffer {
  // Prefixes here end in the terminator 00 00 or a family byte < 0xff, so bumping the
  // last byte never overflows.
  const end = Buffer.from(prefix)
  end[end.length - 1]++
  return end
}

/** The seq at the end of a feed or log key. */
export const seqOfKey = (key: Buffer): number => readSeq(key, key.length - SEQ_BYTES)

/** (user, message) of a winner or unread key. */
export function pairOfKey (key: Buffer): { user: string, message: string } {
  const user = readComponent(key, 1)
  const message = readComponent(key, user.end)
  return { user: user.value, message: message.value }
}
