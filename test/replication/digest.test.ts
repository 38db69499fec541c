import t from 'tap'
import { createHash } from 'node:crypto'
import { DIGEST_BUCKETS, DIGEST_BYTES } from '../../src/limits.js'
import {
  bucketBitmap, bucketOf, compareUtf8, differingBuckets, hasBucket, rootOf, userDigest, xorInto
} from '../../src/replication/digest.js'

const W = { message: 'msg-1', status: 'read', ts: 1806542438400003, origin: 'mx1' } as const

t.test('a user digest is SHA-256 of the documented bytes, truncated', async t => {
  // docs/protocol.md §7a, the worked example: alice, one winner.
  const input = Buffer.from('616c69636500' + '6d73672d3100' + '00' + '00066b0a70500003' + '6d783100', 'hex')
  const expected = createHash('sha256').update(input).digest().subarray(0, DIGEST_BYTES)
  t.equal(userDigest('alice', [W]).toString('hex'), expected.toString('hex'))
  t.equal(userDigest('alice', [W]).toString('hex'), '65801740cf5a0ffe', 'the value in the docs')
  t.equal(userDigest('alice', [W]).length, DIGEST_BYTES)
})

t.test('every field of every winner, and the user, changes the digest', async t => {
  const base = userDigest('alice', [W, { ...W, message: 'msg-2' }]).toString('hex')
  const variants = [
    userDigest('alicf', [W, { ...W, message: 'msg-2' }]),
    userDigest('alice', [{ ...W, status: 'unread' }, { ...W, message: 'msg-2' }]),
    userDigest('alice', [{ ...W, ts: W.ts + 1 }, { ...W, message: 'msg-2' }]),
    userDigest('alice', [{ ...W, origin: 'mx2' }, { ...W, message: 'msg-2' }]),
    userDigest('alice', [W]),
    // the separators keep ids from running into each other
    userDigest('alic', [{ ...W, message: 'emsg-1' }, { ...W, message: 'msg-2' }])
  ]
  for (const v of variants) t.not(v.toString('hex'), base)
  t.equal(userDigest('alice', [W, { ...W, message: 'msg-2' }]).toString('hex'), base, 'deterministic')
})

t.test('buckets, bitmaps, bucket hashes and the root', async t => {
  const seen = new Set<number>()
  const outside: number[] = []
  for (let i = 0; i < 20_000; i++) {
    const b = bucketOf(`user-${i}`)
    if (!Number.isInteger(b) || b < 0 || b >= DIGEST_BUCKETS) outside.push(b)
    seen.add(b)
  }
  t.same(outside, [], 'every bucket in range')
  t.ok(seen.size > DIGEST_BUCKETS * 0.95, `users spread over ${seen.size} buckets`)
  t.equal(bucketOf('alice'), createHash('sha256').update('alice').digest().readUInt16BE(0) >> 4)

  const map = bucketBitmap([0, 7, 8, DIGEST_BUCKETS - 1])
  t.equal(map.length, DIGEST_BUCKETS / 8)
  t.equal(map[0], 0x81)
  t.equal(map[1], 0x80)
  t.same([...Array(DIGEST_BUCKETS).keys()].filter(b => hasBucket(map, b)), [0, 7, 8, DIGEST_BUCKETS - 1])

  const a = Buffer.alloc(DIGEST_BUCKETS * DIGEST_BYTES)
  const b = Buffer.from(a)
  t.same(differingBuckets(a, b), [])
  b[5 * DIGEST_BYTES + 3] = 1
  b[DIGEST_BUCKETS * DIGEST_BYTES - 1] = 1
  t.same(differingBuckets(a, b), [5, DIGEST_BUCKETS - 1])
  t.not(rootOf(a).toString('hex'), rootOf(b).toString('hex'))
  t.equal(rootOf(a).toString('hex'), createHash('sha256').update(a).digest().subarray(0, DIGEST_BYTES).toString('hex'))

  // XOR: adding and removing the same digest restores the bucket hash, in any order.
  const hash = Buffer.alloc(DIGEST_BYTES)
  const d1 = userDigest('u1', [W])
  const d2 = userDigest('u2', [W])
  xorInto(hash, d1)
  xorInto(hash, d2)
  const both = Buffer.from(hash)
  xorInto(hash, d1)
  t.equal(hash.toString('hex'), d2.toString('hex'))
  xorInto(hash, d1)
  t.equal(hash.toString('hex'), both.toString('hex'))
})

t.test('compareUtf8 is the byte order of UTF-8', async t => {
  const chars = ['a', 'z', '\u00e9', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}', '']
  const ids: string[] = []
  for (const x of chars) for (const y of chars) ids.push(`u${x}${y}`)
  const bytes = ids.slice().sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
  t.same(ids.slice().sort(compareUtf8), bytes)
  t.ok(compareUtf8('\ue000', '\u{10000}') < 0, 'U+E000 before U+10000, unlike UTF-16 order')
  t.equal(compareUtf8('same', 'same'), 0)
})
