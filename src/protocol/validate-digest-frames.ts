/**
 * Validators of the anti-entropy frames (digest-frames.ts, docs/protocol.md §7a). Same
 * rules as every frame: a missing or ill-typed field fails the whole frame.
 */
import { DIGEST_BUCKETS, DIGEST_BYTES, DIGEST_PAGE_USERS, DIGEST_PULL_USERS } from '../limits.js'
import { checkMessage, checkUser } from '../validate.js'
import type {
  AeBucketsFrame, AeDigestsFrame, AePullFrame, AePushedFrame, AePushFrame, AeRootFrame, AeUsersFrame,
  AeWinnersFrame, DigestAfter, DigestFrame, WinnerAfter
} from './digest-frames.js'
import { bad, bytes, entries, uint, type Obj } from './fields.js'

function user (value: unknown, what: string): string {
  try {
    return checkUser(value)
  } catch (err) {
    return bad(`${what}: ${(err as Error).message}`)
  }
}

function pair (o: Obj, key: string): unknown[] | null {
  const v = o[key]
  if (v === null) return null
  if (!Array.isArray(v) || v.length !== 2) bad(`${key} must be nil or an array of 2`)
  return v
}

function digestAfter (o: Obj, key: string): DigestAfter | null {
  const v = pair(o, key)
  if (v === null) return null
  const bucket = v[0]
  if (typeof bucket !== 'number' || !Number.isInteger(bucket) || bucket < 0 || bucket >= DIGEST_BUCKETS) {
    bad(`${key}[0] must be a bucket 0..${DIGEST_BUCKETS - 1}`)
  }
  return [bucket, user(v[1], `${key}[1]`)]
}

function winnerAfter (o: Obj, key: string): WinnerAfter | null {
  const v = pair(o, key)
  if (v === null) return null
  try {
    return [checkUser(v[0]), checkMessage(v[1])]
  } catch (err) {
    return bad(`${key}: ${(err as Error).message}`)
  }
}

function digests (o: Obj): Array<[string, Uint8Array]> {
  const list = o.users
  if (!Array.isArray(list) || list.length > DIGEST_PAGE_USERS) bad(`users must be an array of at most ${DIGEST_PAGE_USERS}`)
  return list.map((item: unknown, i: number): [string, Uint8Array] => {
    if (!Array.isArray(item) || item.length !== 2) bad(`users[${i}] must be [user, digest]`)
    const digest: unknown = item[1]
    if (!(digest instanceof Uint8Array) || digest.length !== DIGEST_BYTES) bad(`users[${i}][1] must be ${DIGEST_BYTES} bytes (msgpack bin)`)
    return [user(item[0], `users[${i}]`), digest]
  })
}

function pullUsers (o: Obj): string[] {
  const list = o.users
  if (!Array.isArray(list) || list.length === 0 || list.length > DIGEST_PULL_USERS) bad(`users must be an array of 1..${DIGEST_PULL_USERS} user ids`)
  return list.map((item: unknown, i: number) => user(item, `users[${i}]`))
}

export const digestValidators: Record<DigestFrame['type'], (o: Obj) => DigestFrame> = {
  'ae-root': (o): AeRootFrame => ({ type: 'ae-root', id: uint(o, 'id'), root: bytes(o, 'root', DIGEST_BYTES) }),
  'ae-buckets': (o): AeBucketsFrame => {
    const hashes = o.hashes
    if (!(hashes instanceof Uint8Array) || (hashes.length !== 0 && hashes.length !== DIGEST_BUCKETS * DIGEST_BYTES)) {
      bad(`hashes must be bin of 0 or ${DIGEST_BUCKETS * DIGEST_BYTES} bytes`)
    }
    return { type: 'ae-buckets', id: uint(o, 'id'), hashes }
  },
  'ae-users': (o): AeUsersFrame => ({ type: 'ae-users', id: uint(o, 'id'), buckets: bytes(o, 'buckets', DIGEST_BUCKETS / 8), after: digestAfter(o, 'after') }),
  'ae-digests': (o): AeDigestsFrame => ({ type: 'ae-digests', id: uint(o, 'id'), users: digests(o), next: digestAfter(o, 'next') }),
  'ae-pull': (o): AePullFrame => {
    const users = pullUsers(o)
    const after = winnerAfter(o, 'after')
    if (after !== null && !users.includes(after[0])) bad('after must name one of users')
    return { type: 'ae-pull', id: uint(o, 'id'), users, after }
  },
  'ae-winners': (o): AeWinnersFrame => ({ type: 'ae-winners', id: uint(o, 'id'), entries: entries(o), next: winnerAfter(o, 'next') }),
  'ae-push': (o): AePushFrame => ({ type: 'ae-push', id: uint(o, 'id'), entries: entries(o) }),
  'ae-pushed': (o): AePushedFrame => ({ type: 'ae-pushed', id: uint(o, 'id'), entered: uint(o, 'entered') })
}
