/** Well-formed anti-entropy frames for the fuzzer (frame-cases.ts mutates them). */
import { DIGEST_BUCKETS, DIGEST_BYTES } from '../../src/limits.js'
import type { DigestFrame } from '../../src/protocol/digest-frames.js'
import type { Change } from '../../src/types.js'
import type { Prng } from '../helpers/prng.js'

function bin (r: Prng, length: number): Buffer {
  const b = Buffer.alloc(length)
  for (let i = 0; i < length; i++) b[i] = r.int(0, 255)
  return b
}

export function validDigestFrame (r: Prng, type: DigestFrame['type'], change: () => Change): DigestFrame {
  const id = r.int(0, 100)
  const user = (): string => change().user
  switch (type) {
    case 'ae-root': return { type, id, root: bin(r, DIGEST_BYTES) }
    case 'ae-buckets': return { type, id, hashes: r.chance(0.5) ? Buffer.alloc(0) : bin(r, DIGEST_BUCKETS * DIGEST_BYTES) }
    case 'ae-users': return { type, id, buckets: bin(r, DIGEST_BUCKETS / 8), after: r.chance(0.5) ? null : [r.int(0, DIGEST_BUCKETS - 1), user()] }
    case 'ae-digests': return { type, id, users: Array.from({ length: r.int(0, 4) }, () => [user(), bin(r, DIGEST_BYTES)]), next: null }
    case 'ae-pull': {
      const users = Array.from({ length: r.int(1, 4) }, user)
      return { type, id, users, after: r.chance(0.5) ? null : [users[0], 'm1'] }
    }
    case 'ae-winners': return { type, id, entries: Array.from({ length: r.int(0, 4) }, change), next: null }
    case 'ae-push': return { type, id, entries: Array.from({ length: r.int(0, 4) }, change) }
    case 'ae-pushed': return { type, id, entered: r.int(0, 10) }
  }
}
