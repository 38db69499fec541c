import t from 'tap'
import { Packr } from 'msgpackr'
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js'
import { DIGEST_BUCKETS, DIGEST_BYTES, DIGEST_PAGE_USERS, DIGEST_PULL_USERS } from '../../src/limits.js'
import type { Frame } from '../../src/protocol/frames.js'
import type { Change } from '../../src/types.js'

const raw = new Packr({ useRecords: false, variableMapSize: true })
const ts = 1_700_000_000_000 * 1024 + 7
const d = new Uint8Array(DIGEST_BYTES).fill(9)

const entries: Change[] = [{ user: 'u1', message: 'm1', status: 'unread', origin: 'a', ts }]
const good: Frame[] = [
  { type: 'ae-root', id: 1, root: d },
  { type: 'ae-buckets', id: 1, hashes: new Uint8Array(0) },
  { type: 'ae-buckets', id: 1, hashes: new Uint8Array(DIGEST_BUCKETS * DIGEST_BYTES).fill(3) },
  { type: 'ae-users', id: 2, buckets: new Uint8Array(DIGEST_BUCKETS / 8).fill(255), after: null },
  { type: 'ae-users', id: 2, buckets: new Uint8Array(DIGEST_BUCKETS / 8), after: [4095, 'ü'] },
  { type: 'ae-digests', id: 2, users: [['u1', d], ['u2', d]], next: [7, 'u2'] },
  { type: 'ae-digests', id: 2, users: [], next: null },
  { type: 'ae-pull', id: 3, users: ['u1', 'u2'], after: ['u2', 'm1'] },
  { type: 'ae-winners', id: 3, entries, next: ['u1', 'm1'] },
  { type: 'ae-push', id: 4, entries },
  { type: 'ae-pushed', id: 4, entered: 1 }
]

t.test('anti-entropy frames round-trip', async t => {
  for (const frame of good) {
    const back = decodeFrame(encodeFrame(frame)) as unknown as Record<string, unknown>
    for (const [k, v] of Object.entries(frame)) {
      if (v instanceof Uint8Array) t.equal(Buffer.compare(Buffer.from(back[k] as Uint8Array), Buffer.from(v)), 0, `${frame.type}.${k}`)
      else t.same(back[k], v, `${frame.type}.${k}`)
    }
  }
})

t.test('bad anti-entropy frames are INVALID_FRAME', async t => {
  const user300 = 'x'.repeat(300)
  const bad: Array<[string, Record<string, unknown>]> = [
    ['short root', { type: 'ae-root', id: 1, root: Buffer.alloc(7) }],
    ['root as str', { type: 'ae-root', id: 1, root: 'abcdefgh' }],
    ['hashes of another length', { type: 'ae-buckets', id: 1, hashes: Buffer.alloc(8) }],
    ['no id', { type: 'ae-pushed', entered: 1 }],
    ['short bitmap', { type: 'ae-users', id: 1, buckets: Buffer.alloc(10), after: null }],
    ['after missing', { type: 'ae-users', id: 1, buckets: Buffer.alloc(DIGEST_BUCKETS / 8) }],
    ['bucket out of range', { type: 'ae-users', id: 1, buckets: Buffer.alloc(DIGEST_BUCKETS / 8), after: [DIGEST_BUCKETS, 'u'] }],
    ['bad user in after', { type: 'ae-users', id: 1, buckets: Buffer.alloc(DIGEST_BUCKETS / 8), after: [1, user300] }],
    ['digest of 9 bytes', { type: 'ae-digests', id: 1, users: [['u', Buffer.alloc(9)]], next: null }],
    ['user with a control character', { type: 'ae-digests', id: 1, users: [['u\u0001', Buffer.from(d)]], next: null }],
    ['too many digests', { type: 'ae-digests', id: 1, users: Array.from({ length: DIGEST_PAGE_USERS + 1 }, (_, i) => [`u${i}`, Buffer.from(d)]), next: null }],
    ['empty pull', { type: 'ae-pull', id: 1, users: [], after: null }],
    ['too many pulled', { type: 'ae-pull', id: 1, users: Array.from({ length: DIGEST_PULL_USERS + 1 }, (_, i) => `u${i}`), after: null }],
    ['after of another user', { type: 'ae-pull', id: 1, users: ['a'], after: ['b', 'm'] }],
    ['next not a pair', { type: 'ae-winners', id: 1, entries: [], next: ['u'] }],
    ['bad entry', { type: 'ae-push', id: 1, entries: [['u', 'm', 7, 'a', 5]] }],
    ['negative entered', { type: 'ae-pushed', id: 1, entered: -1 }]
  ]
  for (const [name, frame] of bad) t.throws(() => decodeFrame(raw.pack(frame)), { code: 'INVALID_FRAME' }, name)
})
