import { isUtf8 } from 'node:buffer'
import { MarksyncError, type ErrorCode } from '../errors.js'
import { MAX_BATCH_ENTRIES, MAX_FRAME_DEPTH } from '../limits.js'

/**
 * A structural pass over one msgpack value before anything is decoded. It reads only
 * headers, so it allocates nothing, and it fails closed on what the profile excludes:
 * extension types (msgpackr would otherwise turn them into Dates, Sets, Errors...),
 * non-string map keys, nesting deeper than MAX_FRAME_DEPTH, arrays longer than
 * MAX_BATCH_ENTRIES (checked on the header, before an array is allocated), lengths
 * that run past the end, trailing bytes after the value, and strings that are not
 * well-formed UTF-8 (a decoder would turn them into U+FFFD, so two different invalid
 * ids would become one, as the API path refuses them too).
 */

/** Most keys a map in any frame may have (frames have at most a dozen fields). */
const MAX_MAP_KEYS = 32

// eslint-disable-next-line max-lines-per-function -- one closure over the read position; each inner reader is a few lines (to split)
export function scanFrame (buf: Uint8Array): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let pos = 0

  function fail (code: ErrorCode, message: string): never {
    throw new MarksyncError(code, `${message} (at byte ${pos})`)
  }
  function need (n: number): void {
    if (pos + n > buf.length) fail('INVALID_FRAME', 'msgpack value runs past the end of the frame')
  }
  function uint (bytes: 1 | 2 | 4): number {
    need(bytes)
    const n = bytes === 1 ? view.getUint8(pos) : bytes === 2 ? view.getUint16(pos) : view.getUint32(pos)
    pos += bytes
    return n
  }
  function skip (n: number): void {
    need(n)
    pos += n
  }
  function text (n: number): void {
    need(n)
    if (!isUtf8(buf.subarray(pos, pos + n))) fail('INVALID_FRAME', 'a string is not well-formed UTF-8')
    pos += n
  }
  function array (count: number, depth: number): void {
    if (count > MAX_BATCH_ENTRIES) fail('BATCH_TOO_LARGE', `array of ${count} items exceeds ${MAX_BATCH_ENTRIES}`)
    for (let i = 0; i < count; i++) value(depth + 1, false)
  }
  function map (count: number, depth: number): void {
    if (count > MAX_MAP_KEYS) fail('INVALID_FRAME', `map of ${count} keys exceeds ${MAX_MAP_KEYS}`)
    for (let i = 0; i < count; i++) {
      value(depth + 1, true)
      value(depth + 1, false)
    }
  }
  function value (depth: number, isKey: boolean): void {
    if (depth > MAX_FRAME_DEPTH) fail('INVALID_FRAME', `nesting deeper than ${MAX_FRAME_DEPTH}`)
    need(1)
    const b = buf[pos++]
    const isString = (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb
    if (isKey && !isString) fail('INVALID_FRAME', 'map keys must be strings')
    if (b <= 0x7f || b >= 0xe0) return // positive and negative fixint
    if (b >= 0x80 && b <= 0x8f) return map(b & 0x0f, depth)
    if (b >= 0x90 && b <= 0x9f) return array(b & 0x0f, depth)
    if (b >= 0xa0 && b <= 0xbf) return text(b & 0x1f)
    switch (b) {
      case 0xc0: case 0xc2: case 0xc3: return // nil, false, true
      case 0xc4: return skip(uint(1)) // bin8
      case 0xc5: return skip(uint(2))
      case 0xc6: return skip(uint(4))
      case 0xd9: return text(uint(1)) // str8
      case 0xda: return text(uint(2))
      case 0xdb: return text(uint(4))
      case 0xca: return skip(4) // float32
      case 0xcb: return skip(8) // float64
      case 0xcc: case 0xd0: return skip(1) // uint8, int8
      case 0xcd: case 0xd1: return skip(2)
      case 0xce: case 0xd2: return skip(4)
      case 0xcf: case 0xd3: return skip(8)
      case 0xdc: return array(uint(2), depth)
      case 0xdd: return array(uint(4), depth)
      case 0xde: return map(uint(2), depth)
      case 0xdf: return map(uint(4), depth)
      default: // 0xc1 (never used), 0xc7-0xc9 and 0xd4-0xd8 (extensions)
        fail('INVALID_FRAME', `msgpack type 0x${b.toString(16)} is not allowed`)
    }
  }

  value(0, false)
  if (pos !== buf.length) fail('INVALID_FRAME', `${buf.length - pos} trailing bytes after the frame`)
}
