/**
 * Digests of the winners, for anti-entropy (docs/protocol.md §7a). Everything here is
 * specified byte for byte there, so another implementation computes the same values:
 *
 * - user digest: the first DIGEST_BYTES of SHA-256 over the user id and its winners in
 *   ascending byte order of their message ids (the order the store keeps them in), each
 *   as `message 00 status ts(u64 BE) origin 00`;
 * - bucket of a user: the top 12 bits of SHA-256(user id);
 * - bucket hash: XOR of the digests of the bucket's users (zeros when empty);
 * - root: the first DIGEST_BYTES of SHA-256 over the DIGEST_BUCKETS bucket hashes in order.
 */
import { createHash } from 'node:crypto'
import { DIGEST_BUCKETS, DIGEST_BYTES } from '../limits.js'
import type { Change } from '../types.js'

/** Status codes, as on the wire. */
const STATUS_CODE = { read: 0, unread: 1, deleted: 2 } as const
/** Bits of SHA-256(user) that pick the bucket. */
const BUCKET_BITS = Math.log2(DIGEST_BUCKETS)
const TWO_32 = 2 ** 32

/** What a digest covers of a winner. */
export type DigestedWinner = Pick<Change, 'message' | 'status' | 'ts' | 'origin'>

/** The user digest; `winners` must be in ascending byte order of their message ids. */
export function userDigest (user: string, winners: readonly DigestedWinner[]): Buffer {
  let length = Buffer.byteLength(user, 'utf8') + 1
  for (const w of winners) length += Buffer.byteLength(w.message, 'utf8') + 11 + w.origin.length
  const input = Buffer.allocUnsafe(length)
  let at = input.write(user, 0, 'utf8')
  input[at++] = 0
  for (const w of winners) {
    at += input.write(w.message, at, 'utf8')
    input[at++] = 0
    input[at++] = STATUS_CODE[w.status]
    input.writeUInt32BE(Math.floor(w.ts / TWO_32), at)
    input.writeUInt32BE(w.ts % TWO_32, at + 4)
    at += 8
    at += input.write(w.origin, at, 'latin1')
    input[at++] = 0
  }
  return createHash('sha256').update(input).digest().subarray(0, DIGEST_BYTES)
}

export function bucketOf (user: string): number {
  const hash = createHash('sha256').update(user, 'utf8').digest()
  return hash.readUInt16BE(0) >> (16 - BUCKET_BITS)
}

/** `target ^= value`, in place (both DIGEST_BYTES long). */
export function xorInto (target: Buffer, value: Uint8Array): void {
  for (let i = 0; i < DIGEST_BYTES; i++) target[i] ^= value[i]
}

export function rootOf (bucketHashes: Buffer): Buffer {
  return createHash('sha256').update(bucketHashes).digest().subarray(0, DIGEST_BYTES)
}

/** Indices of the buckets whose hashes differ between two DIGEST_BUCKETS × DIGEST_BYTES tables. */
export function differingBuckets (mine: Buffer, theirs: Uint8Array): number[] {
  const out: number[] = []
  for (let b = 0; b < DIGEST_BUCKETS; b++) {
    const at = b * DIGEST_BYTES
    if (Buffer.compare(mine.subarray(at, at + DIGEST_BYTES), theirs.subarray(at, at + DIGEST_BYTES)) !== 0) out.push(b)
  }
  return out
}

/** A set of buckets as a bitmap of DIGEST_BUCKETS bits (bit 7 of byte 0 is bucket 0). */
export function bucketBitmap (buckets: Iterable<number>): Buffer {
  const map = Buffer.alloc(DIGEST_BUCKETS / 8)
  for (const b of buckets) map[b >> 3] |= 0x80 >> (b & 7)
  return map
}

export function hasBucket (bitmap: Uint8Array, bucket: number): boolean {
  return (bitmap[bucket >> 3] & (0x80 >> (bucket & 7))) !== 0
}

/**
 * Order of ids by their UTF-8 bytes (the store's key order), without encoding them:
 * UTF-16 code unit order differs from it only between surrogates and U+E000..U+FFFF.
 */
export function compareUtf8 (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

/** A position in the (bucket, user) order of user digests. */
export interface DigestCursor {
  bucket: number
  user: string
}

export function compareCursor (a: DigestCursor, b: DigestCursor): number {
  return a.bucket !== b.bucket ? a.bucket - b.bucket : compareUtf8(a.user, b.user)
}
