/**
 * Anti-entropy frames (protocol version 2, docs/protocol.md §7a). Four request/answer
 * pairs; a request carries an `id` chosen by the requester, unique in its session, and
 * its answer echoes it. Either side may be a requester; a requester has at most one
 * request of a round unanswered.
 */
import type { Change } from '../types.js'

/** A position in the (bucket, user) order of user digests: `[bucket, user]`. */
export type DigestAfter = [number, string]
/** A position in the (user, message) order of winners: `[user, message]`. */
export type WinnerAfter = [string, string]

/** Requester → answerer: my root; answered by `ae-buckets`. */
export interface AeRootFrame {
  type: 'ae-root'
  id: number
  /** The requester's root (DIGEST_BYTES). */
  root: Uint8Array
}

/** Answer to `ae-root`: the answerer's bucket hashes, or none when the roots are equal. */
export interface AeBucketsFrame {
  type: 'ae-buckets'
  id: number
  /** Empty (roots equal), or DIGEST_BUCKETS × DIGEST_BYTES bytes: bucket 0 first. */
  hashes: Uint8Array
}

/** Requester → answerer: send your user digests of these buckets; answered by `ae-digests`. */
export interface AeUsersFrame {
  type: 'ae-users'
  id: number
  /** Bitmap of DIGEST_BUCKETS bits; bit 7 of byte 0 is bucket 0. */
  buckets: Uint8Array
  /** Continue strictly after this position; null for the first page. */
  after: DigestAfter | null
}

/** Answer to `ae-users`: one page of user digests, in (bucket, user) order. */
export interface AeDigestsFrame {
  type: 'ae-digests'
  id: number
  /** `[user, digest]` pairs, at most DIGEST_PAGE_USERS. */
  users: Array<[string, Uint8Array]>
  /** The last position this page covers when more may follow; null when it is the last page. */
  next: DigestAfter | null
}

/** Requester → answerer: send your winners of these users; answered by `ae-winners`. */
export interface AePullFrame {
  type: 'ae-pull'
  id: number
  /** 1..DIGEST_PULL_USERS user ids, served in this order. */
  users: string[]
  /** Continue strictly after this winner (its user is one of `users`); null to start. */
  after: WinnerAfter | null
}

/** Answer to `ae-pull`: winners, bounded like a batch. */
export interface AeWinnersFrame {
  type: 'ae-winners'
  id: number
  entries: Change[]
  /** The last winner sent when more may follow (pull again after it); null when done. */
  next: WinnerAfter | null
}

/** Requester → answerer: apply my winners (normal precedence); answered by `ae-pushed`. */
export interface AePushFrame {
  type: 'ae-push'
  id: number
  entries: Change[]
}

/** Answer to `ae-push`, once the entries are durably applied. */
export interface AePushedFrame {
  type: 'ae-pushed'
  id: number
  /** How many of them entered (won over the answerer's winners). */
  entered: number
}

export type DigestRequest = AeRootFrame | AeUsersFrame | AePullFrame | AePushFrame
export type DigestAnswer = AeBucketsFrame | AeDigestsFrame | AeWinnersFrame | AePushedFrame
export type DigestFrame = DigestRequest | DigestAnswer

export const DIGEST_REQUESTS: ReadonlySet<string> = new Set(['ae-root', 'ae-users', 'ae-pull', 'ae-push'])
export const DIGEST_ANSWERS: ReadonlySet<string> = new Set(['ae-buckets', 'ae-digests', 'ae-winners', 'ae-pushed'])
