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

export function scanFrame (buf: Uint8Array): void {
  new FrameScanner(buf).scan()
}

/** The read position over one frame, and a reader per msgpack header kind. */
class FrameScanner {
  readonly #buf: Uint8Array
  readonly #view: DataView
  #pos = 0

  constructor (buf: Uint8Array) {
    this.#buf = buf
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  scan (): void {
    this.#value(0, false)
    if (this.#pos !== this.#buf.length) this.#fail('INVALID_FRAME', `${this.#buf.length - this.#pos} trailing bytes after the frame`)
  }

  #fail (code: ErrorCode, message: string): never {
    throw new MarksyncError(code, `${message} (at byte ${this.#pos})`)
  }

  #need (n: number): void {
    if (this.#pos + n > this.#buf.length) this.#fail('INVALID_FRAME', 'msgpack value runs past the end of the frame')
  }

  #uint (bytes: 1 | 2 | 4): number {
    this.#need(bytes)
    const pos = this.#pos
    const n = bytes === 1 ? this.#view.getUint8(pos) : bytes === 2 ? this.#view.getUint16(pos) : this.#view.getUint32(pos)
    this.#pos += bytes
    return n
  }

  #skip (n: number): void {
    this.#need(n)
    this.#pos += n
  }

  #text (n: number): void {
    this.#need(n)
    if (!isUtf8(this.#buf.subarray(this.#pos, this.#pos + n))) this.#fail('INVALID_FRAME', 'a string is not well-formed UTF-8')
    this.#pos += n
  }

  #array (count: number, depth: number): void {
    if (count > MAX_BATCH_ENTRIES) this.#fail('BATCH_TOO_LARGE', `array of ${count} items exceeds ${MAX_BATCH_ENTRIES}`)
    for (let i = 0; i < count; i++) this.#value(depth + 1, false)
  }

  #map (count: number, depth: number): void {
    if (count > MAX_MAP_KEYS) this.#fail('INVALID_FRAME', `map of ${count} keys exceeds ${MAX_MAP_KEYS}`)
    for (let i = 0; i < count; i++) {
      this.#value(depth + 1, true)
      this.#value(depth + 1, false)
    }
  }

  /** One value: the fix-size kinds here, the ones with a header byte in #headed. */
  #value (depth: number, isKey: boolean): void {
    if (depth > MAX_FRAME_DEPTH) this.#fail('INVALID_FRAME', `nesting deeper than ${MAX_FRAME_DEPTH}`)
    this.#need(1)
    const b = this.#buf[this.#pos++]
    const isString = (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb
    if (isKey && !isString) this.#fail('INVALID_FRAME', 'map keys must be strings')
    if (b <= 0x7f || b >= 0xe0) return // positive and negative fixint
    if (b >= 0x80 && b <= 0x8f) return this.#map(b & 0x0f, depth)
    if (b >= 0x90 && b <= 0x9f) return this.#array(b & 0x0f, depth)
    if (b >= 0xa0 && b <= 0xbf) return this.#text(b & 0x1f)
    this.#headed(b, depth)
  }

  #headed (b: number, depth: number): void {
    switch (b) {
      case 0xc0: case 0xc2: case 0xc3: return // nil, false, true
      case 0xc4: return this.#skip(this.#uint(1)) // bin8
      case 0xc5: return this.#skip(this.#uint(2))
      case 0xc6: return this.#skip(this.#uint(4))
      case 0xd9: return this.#text(this.#uint(1)) // str8
      case 0xda: return this.#text(this.#uint(2))
      case 0xdb: return this.#text(this.#uint(4))
      case 0xca: return this.#skip(4) // float32
      case 0xcb: return this.#skip(8) // float64
      case 0xcc: case 0xd0: return this.#skip(1) // uint8, int8
      case 0xcd: case 0xd1: return this.#skip(2)
      case 0xce: case 0xd2: return this.#skip(4)
      case 0xcf: case 0xd3: return this.#skip(8)
      case 0xdc: return this.#array(this.#uint(2), depth)
      case 0xdd: return this.#array(this.#uint(4), depth)
      case 0xde: return this.#map(this.#uint(2), depth)
      case 0xdf: return this.#map(this.#uint(4), depth)
      default: // 0xc1 (never used), 0xc7-0xc9 and 0xd4-0xd8 (extensions)
        this.#fail('INVALID_FRAME', `msgpack type 0x${b.toString(16)} is not allowed`)
    }
  }
}
