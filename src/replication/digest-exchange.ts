/**
 * Anti-entropy with one peer over its current session (docs/protocol.md §7a): answers the
 * peer's digest requests, and runs this node's rounds as the requester.
 *
 * A round: compare roots (`ae-root` → `ae-buckets`, empty when equal: the end of a round
 * that finds nothing); fetch the peer's user digests of the differing buckets page by page
 * (`ae-users` → `ae-digests`) and compare them with ours; for the users that differ, pull
 * the peer's winners (`ae-pull` → `ae-winners`) and push ours (`ae-push` → `ae-pushed`).
 * Both sides apply what they receive with the normal precedence, as `applyRemote` from the
 * peer, so repairs are relayed like any change. One request of a round is unanswered at a
 * time, so memory is bounded by a page on both sides.
 */
import { MarksyncError } from '../errors.js'
import { DIGEST_PAGE_USERS, DIGEST_PULL_USERS, DIGEST_REQUEST_TIMEOUT_MS, MAX_DIGEST_REQUESTS } from '../limits.js'
import type { ApplyResult, Change } from '../types.js'
import type { Frame } from '../protocol/index.js'
import { DIGEST_REQUESTS, type DigestAfter, type DigestAnswer, type DigestFrame, type DigestRequest } from '../protocol/digest-frames.js'
import { bucketBitmap, compareCursor, compareUtf8, differingBuckets, type DigestCursor } from './digest.js'
import type { DigestTable } from './digest-table.js'
import { winnerPage, type PageLimits, type WinnerSource } from './winner-pages.js'

/** What the exchange needs of a session. */
export interface DigestChannel {
  send: (frame: Frame) => unknown
  fail: (code: 'UNEXPECTED_FRAME' | 'WINDOW_EXCEEDED' | 'INTERNAL', message: string) => void
}

export interface DigestExchangeInit {
  peer: string
  table: DigestTable
  store: WinnerSource & { applyRemote: (changes: Change[], options: { from: string }) => Promise<ApplyResult> }
  limits: PageLimits
  /** Entries entered here from the peer by anti-entropy (pulled, or pushed to us). */
  onRepaired: (entered: number) => void
}

/** What one round found and did. */
export interface RoundResult {
  peer: string
  /** The roots were equal: nothing was compared further. */
  same: boolean
  buckets: number
  /** Users whose digests differed (or that one side lacked). */
  users: number
  /** Winners entered here from the peer, and at the peer from us. */
  pulled: number
  pushed: number
  /** Bytes of every frame of the round, both directions. */
  bytes: number
  ms: number
}

interface Pending {
  resolve: (frame: DigestAnswer) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

const ANSWER_OF: Record<DigestRequest['type'], DigestAnswer['type']> = { 'ae-root': 'ae-buckets', 'ae-users': 'ae-digests', 'ae-pull': 'ae-winners', 'ae-push': 'ae-pushed' }

export class DigestExchange {
  readonly #init: DigestExchangeInit
  #channel: DigestChannel | undefined
  readonly #pending = new Map<number, Pending & { type: DigestAnswer['type'] }>()
  #nextId = 1
  #served: Promise<void> = Promise.resolve()
  #queued = 0
  #bytes = 0

  constructor (init: DigestExchangeInit) {
    this.#init = init
  }

  attach (channel: DigestChannel): void {
    this.detach()
    this.#channel = channel
  }

  /** The session ended: requests in flight fail (their round is given up), answers are not sent. */
  detach (): void {
    this.#channel = undefined
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(new MarksyncError('INTERNAL', 'the session ended'))
    }
    this.#pending.clear()
  }

  onFrame (frame: DigestFrame, bytes: number): void {
    const channel = this.#channel
    if (channel === undefined) return
    if (DIGEST_REQUESTS.has(frame.type)) {
      this.#serve(channel, frame as DigestRequest)
      return
    }
    const answer = frame as DigestAnswer
    const pending = this.#pending.get(answer.id)
    if (pending === undefined || pending.type !== answer.type) {
      channel.fail('UNEXPECTED_FRAME', `${answer.type} ${answer.id} answers no request`)
      return
    }
    this.#pending.delete(answer.id)
    clearTimeout(pending.timer)
    this.#bytes += bytes
    pending.resolve(answer)
  }

  /** One round as the requester; `user` skips the digests and repairs that user only. */
  async round (user?: string): Promise<RoundResult> {
    const started = performance.now()
    this.#bytes = 0
    const result: RoundResult = { peer: this.#init.peer, same: false, buckets: 0, users: 0, pulled: 0, pushed: 0, bytes: 0, ms: 0 }
    if (user !== undefined) {
      result.users = 1
      await this.#repair([user], result)
    } else {
      await this.#compare(result)
    }
    result.bytes = this.#bytes
    result.ms = Math.round(performance.now() - started)
    return result
  }

  // ---- requester ----------------------------------------------------------------------

  async #compare (result: RoundResult): Promise<void> {
    const table = this.#init.table
    await table.refresh()
    const { hashes } = await this.#request({ type: 'ae-root', id: 0, root: table.root() }) as { hashes: Uint8Array }
    if (hashes.length === 0) {
      result.same = true
      return
    }
    const differing = differingBuckets(table.bucketHashes(), hashes)
    result.buckets = differing.length
    const buckets = bucketBitmap(differing)
    let after: DigestCursor | null = null
    // Each page must end past the previous one, so this ends after at most one page per user.
    for (;;) {
      const page = await this.#request({ type: 'ae-users', id: 0, buckets, after: toWire(after) }) as { users: Array<[string, Uint8Array]>, next: DigestAfter | null }
      const until = page.next === null ? null : { bucket: page.next[0], user: page.next[1] }
      if (until !== null && after !== null && compareCursor(until, after) <= 0) throw new MarksyncError('UNEXPECTED_FRAME', 'ae-digests page does not move forward')
      const users = this.#differing(buckets, after, until, page.users)
      result.users += users.length
      await this.#repair(users, result)
      if (until === null) return
      after = until
    }
  }

  /** Users in (after, until] whose digests differ here and there, or that one side lacks. */
  #differing (buckets: Uint8Array, after: DigestCursor | null, until: DigestCursor | null, theirs: Array<[string, Uint8Array]>): string[] {
    const other = new Map(theirs)
    const users: string[] = []
    for (const { user, digest } of this.#init.table.page(buckets, after, Number.MAX_SAFE_INTEGER, until)) {
      const their = other.get(user)
      other.delete(user)
      if (their === undefined || Buffer.compare(digest, their) !== 0) users.push(user)
    }
    users.push(...other.keys())
    return users.sort(compareUtf8)
  }

  async #repair (users: string[], result: RoundResult): Promise<void> {
    for (let i = 0; i < users.length; i += DIGEST_PULL_USERS) {
      const some = users.slice(i, i + DIGEST_PULL_USERS)
      result.pulled += await this.#pull(some)
      result.pushed += await this.#push(some)
    }
  }

  async #pull (users: string[]): Promise<number> {
    let entered = 0
    let after: [string, string] | null = null
    for (;;) {
      const page = await this.#request({ type: 'ae-pull', id: 0, users, after }) as { entries: Change[], next: [string, string] | null }
      entered += await this.#apply(page.entries)
      if (page.next === null) return entered
      if (after !== null && page.next[0] === after[0] && compareUtf8(page.next[1], after[1]) <= 0) throw new MarksyncError('UNEXPECTED_FRAME', 'ae-winners page does not move forward')
      after = page.next
    }
  }

  async #push (users: string[]): Promise<number> {
    let entered = 0
    let after: [string, string] | null = null
    for (;;) {
      const page = await winnerPage(this.#init.store, users, after, this.#init.limits)
      if (page.entries.length > 0) {
        const answer = await this.#request({ type: 'ae-push', id: 0, entries: page.entries.map(plainChange) }) as { entered: number }
        entered += answer.entered
      }
      if (page.next === null) return entered
      after = page.next
    }
  }

  async #request (frame: DigestRequest): Promise<DigestAnswer> {
    const channel = this.#channel
    if (channel === undefined) throw new MarksyncError('INTERNAL', `no session with ${this.#init.peer}`)
    const id = this.#nextId++
    return await new Promise<DigestAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new MarksyncError('INTERNAL', `no answer to ${frame.type} within ${DIGEST_REQUEST_TIMEOUT_MS} ms`))
      }, DIGEST_REQUEST_TIMEOUT_MS)
      this.#pending.set(id, { resolve, reject, timer, type: ANSWER_OF[frame.type] })
      const sent = channel.send({ ...frame, id })
      if (typeof sent === 'number') this.#bytes += sent
    })
  }

  async #apply (entries: Change[]): Promise<number> {
    if (entries.length === 0) return 0
    const { entered } = await this.#init.store.applyRemote(entries, { from: this.#init.peer })
    this.#init.onRepaired(entered.length)
    return entered.length
  }

  // ---- answerer -----------------------------------------------------------------------

  /** Requests are answered one at a time, in order; a peer may queue MAX_DIGEST_REQUESTS. */
  #serve (channel: DigestChannel, request: DigestRequest): void {
    if (this.#queued >= MAX_DIGEST_REQUESTS) {
      channel.fail('WINDOW_EXCEEDED', `more than ${MAX_DIGEST_REQUESTS} digest requests unanswered`)
      return
    }
    this.#queued++
    this.#served = this.#served
      .then(async () => {
        const answer = await this.#answer(request)
        if (this.#channel === channel) channel.send(answer)
      })
      .catch(err => { if (this.#channel === channel) channel.fail('INTERNAL', (err as Error).message) })
      .finally(() => { this.#queued-- })
  }

  async #answer (request: DigestRequest): Promise<DigestAnswer> {
    const { table, store, limits } = this.#init
    const id = request.id
    switch (request.type) {
      case 'ae-root': {
        await table.refresh()
        const same = Buffer.compare(table.root(), request.root) === 0
        return { type: 'ae-buckets', id, hashes: same ? Buffer.alloc(0) : table.bucketHashes() }
      }
      case 'ae-users': {
        await table.refresh()
        const after = request.after === null ? null : { bucket: request.after[0], user: request.after[1] }
        const users = table.page(request.buckets, after, DIGEST_PAGE_USERS)
        // A full page may have more after it; the requester asks again from its last user.
        const last = users.length === DIGEST_PAGE_USERS ? users[users.length - 1] : null
        return { type: 'ae-digests', id, users: users.map(u => [u.user, u.digest]), next: toWire(last) }
      }
      case 'ae-pull': {
        const page = await winnerPage(store, request.users, request.after, limits)
        return { type: 'ae-winners', id, entries: page.entries.map(plainChange), next: page.next }
      }
      case 'ae-push':
        return { type: 'ae-pushed', id, entered: await this.#apply(request.entries) }
    }
  }
}

function toWire (cursor: DigestCursor | null): DigestAfter | null {
  return cursor === null ? null : [cursor.bucket, cursor.user]
}

function plainChange (c: Change): Change {
  return { user: c.user, message: c.message, status: c.status, origin: c.origin, ts: c.ts }
}
