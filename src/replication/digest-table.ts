/**
 * This node's user digests and bucket hashes (digest.ts), kept in memory and current
 * without rereading the store: built by one scan of the winners at the first use, then
 * every committed write marks its users dirty ('entered') and `refresh()` recomputes
 * only those from their own winners. A round that finds nothing to repair costs a root
 * comparison, whatever the number of users. Memory: about 100 bytes per user.
 */
import { DIGEST_BUCKETS, DIGEST_BYTES } from '../limits.js'
import type { LogEntry, MessageState } from '../types.js'
import { bucketOf, compareCursor, compareUtf8, hasBucket, rootOf, userDigest, xorInto, type DigestCursor, type DigestedWinner } from './digest.js'

/** The slice of the store the table reads. */
export interface DigestSource {
  winners: (options?: { user?: string }) => AsyncIterable<MessageState>
  on: (event: 'entered', listener: (entries: LogEntry[]) => void) => unknown
  off: (event: 'entered', listener: (entries: LogEntry[]) => void) => unknown
}

export interface UserDigest {
  bucket: number
  user: string
  digest: Buffer
}

export class DigestTable {
  readonly #source: DigestSource
  /** Users by bucket, each with its digest. */
  readonly #buckets: Array<Map<string, Buffer>> = Array.from({ length: DIGEST_BUCKETS }, () => new Map())
  readonly #hashes = Buffer.alloc(DIGEST_BUCKETS * DIGEST_BYTES)
  #dirty = new Set<string>()
  #built = false
  #started = false
  /** One refresh at a time; callers arriving meanwhile wait for the next. */
  #refreshing: Promise<void> = Promise.resolve()
  readonly #onEntered = (entries: LogEntry[]): void => {
    for (const e of entries) this.#dirty.add(e.user)
  }

  constructor (source: DigestSource) {
    this.#source = source
  }

  start (): void {
    if (this.#started) return
    this.#started = true
    this.#source.on('entered', this.#onEntered)
  }

  stop (): void {
    if (!this.#started) return
    this.#started = false
    this.#source.off('entered', this.#onEntered)
  }

  get users (): number {
    let n = 0
    for (const bucket of this.#buckets) n += bucket.size
    return n
  }

  /** Brings the table up to every write committed before the call. */
  async refresh (): Promise<void> {
    if (!this.#started) throw new TypeError('the digest table is not started')
    const run = this.#refreshing.then(async () => { await this.#refreshNow() })
    this.#refreshing = run.catch(() => {})
    await run
  }

  root (): Buffer {
    return rootOf(this.#hashes)
  }

  /** The DIGEST_BUCKETS bucket hashes, concatenated (a copy). */
  bucketHashes (): Buffer {
    return Buffer.from(this.#hashes)
  }

  digestOf (user: string): Buffer | undefined {
    return this.#buckets[bucketOf(user)].get(user)
  }

  /**
   * Users of the buckets in `bitmap`, in (bucket, user) order, strictly after `after` and
   * at most up to `until` (inclusive), at most `limit` of them.
   */
  page (bitmap: Uint8Array, after: DigestCursor | null, limit: number, until: DigestCursor | null = null): UserDigest[] {
    const out: UserDigest[] = []
    for (let b = after?.bucket ?? 0; b < DIGEST_BUCKETS && out.length < limit; b++) {
      if (until !== null && b > until.bucket) break
      if (!hasBucket(bitmap, b) || this.#buckets[b].size === 0) continue
      const users = [...this.#buckets[b].keys()].sort(compareUtf8)
      for (const user of users) {
        const at = { bucket: b, user }
        if (after !== null && compareCursor(at, after) <= 0) continue
        if (until !== null && compareCursor(at, until) > 0) break
        out.push({ bucket: b, user, digest: this.#buckets[b].get(user) as Buffer })
        if (out.length === limit) break
      }
    }
    return out
  }

  async #refreshNow (): Promise<void> {
    if (!this.#built) await this.#build()
    const dirty = this.#dirty
    this.#dirty = new Set()
    for (const user of dirty) {
      const winners: MessageState[] = []
      for await (const w of this.#source.winners({ user })) winners.push(w)
      this.#set(user, winners.length === 0 ? undefined : userDigest(user, winners))
    }
  }

  /** One scan of every winner, in (user, message) order. Writes meanwhile are marked dirty. */
  async #build (): Promise<void> {
    let user: string | undefined
    let winners: DigestedWinner[] = []
    for await (const w of this.#source.winners()) {
      if (w.user !== user) {
        if (user !== undefined) this.#set(user, userDigest(user, winners))
        user = w.user
        winners = []
      }
      winners.push(w)
    }
    if (user !== undefined) this.#set(user, userDigest(user, winners))
    this.#built = true
  }

  #set (user: string, digest: Buffer | undefined): void {
    const b = bucketOf(user)
    const bucket = this.#buckets[b]
    const hash = this.#hashes.subarray(b * DIGEST_BYTES, (b + 1) * DIGEST_BYTES)
    const old = bucket.get(user)
    if (old !== undefined) xorInto(hash, old)
    if (digest === undefined) {
      bucket.delete(user)
      return
    }
    xorInto(hash, digest)
    bucket.set(user, digest)
  }
}
