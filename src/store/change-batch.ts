/**
 * One atomic write of changes (one or more grouped `mark`/`applyRemote`
 * calls): builds the LevelDB operations for feed, per-user log, winners,
 * unread table and counts, and keeps the winners it has read or set, so a
 * later change in the same batch compares against an earlier one.
 */
import type { Level } from 'level'
import { physicalMs } from '../hlc.js'
import type { Change, LogEntry, Status } from '../types.js'
import { MARKER, encodeFeed, encodeNumbers, decodeNumbers, encodeWinner, decodeWinner, type WinnerRecord } from './codec.js'
import type { BoundedCache } from './bounded-cache.js'
import { FAMILY, countKey, feedKey, userPrefix, winnerKey, withSeq } from './keys.js'

type ChainedBatch = ReturnType<Level<Buffer, Buffer>['batch']>

interface Slot {
  key: Buffer
  winner: WinnerRecord | undefined
}

/** Map key of a (user, message) pair in the winner cache; length-prefixed so no two pairs share one. */
export const pairId = (user: string, message: string): string => `${user.length}:${user}${message}`

/** Committed winners and unread counts the batch may use instead of reading them. */
export interface StoreCaches {
  winners: BoundedCache<WinnerRecord>
  counts: BoundedCache<number>
}

export class ChangeBatch {
  readonly entries: LogEntry[] = []
  /** Seqs of winners this batch replaced: their entries are superseded once it commits. */
  readonly beaten: number[] = []
  readonly #slots = new Map<string, Slot>()
  readonly #deltas = new Map<string, number>()
  readonly #counts = new Map<string, number>()
  readonly #logPrefixes = new Map<string, Buffer>()
  readonly #db: Level<Buffer, Buffer>
  readonly #caches: StoreCaches
  /**
   * Operations go straight into a native chained batch: in our measurements about
   * twice as fast as `db.batch(array)`, which copies and normalizes every operation.
   * Created at the first write, so a batch that enters nothing holds no native resources.
   */
  #chained: ChainedBatch | null = null
  lastSeq: number

  constructor (db: Level<Buffer, Buffer>, lastSeq: number, caches: StoreCaches) {
    this.#db = db
    this.lastSeq = lastSeq
    this.#caches = caches
  }

  /** Reads the current winners of these pairs (from this batch, the cache or disk). */
  async load (pairs: Array<{ user: string, message: string }>): Promise<void> {
    const missing: Slot[] = []
    for (const { user, message } of pairs) {
      const id = pairId(user, message)
      if (this.#slots.has(id)) continue
      const cached = this.#caches.winners.get(id)
      const slot: Slot = { key: winnerKey(user, message), winner: cached }
      this.#slots.set(id, slot)
      if (cached === undefined) missing.push(slot)
    }
    if (missing.length === 0) return
    const values = await this.#db.getMany(missing.map(s => s.key))
    values.forEach((value, i) => {
      if (value !== undefined) missing[i].winner = decodeWinner(value)
    })
  }

  /** The current winner of a loaded pair. */
  winner (user: string, message: string): WinnerRecord | undefined {
    return this.#slot(user, message).winner
  }

  /** Enters a change that beats the current winner: new seq, log entry, winner, unread table. */
  enter (change: Change, localTime: number, from?: string): LogEntry {
    const seq = ++this.lastSeq
    const slot = this.#slot(change.user, change.message)
    const entry: LogEntry = {
      seq,
      user: change.user,
      message: change.message,
      status: change.status,
      origin: change.origin,
      ts: change.ts,
      originTime: physicalMs(change.ts),
      localTime
    }
    if (from !== undefined) entry.from = from
    const winner: WinnerRecord = { status: change.status, origin: change.origin, ts: change.ts, localTime, seq }
    const batch = this.#chained ??= this.#db.batch()
    batch.put(feedKey(seq), encodeFeed(entry))
    batch.put(this.#logKey(change.user, seq), MARKER)
    batch.put(slot.key, encodeWinner(winner))
    this.#unreadTransition(slot, change.user, change.status)
    if (slot.winner !== undefined) this.beaten.push(slot.winner.seq)
    slot.winner = winner
    this.entries.push(entry)
    return entry
  }

  /** Adds a record of another family (a discarded change) to the same atomic write. */
  put (key: Buffer, value: Buffer): void {
    (this.#chained ??= this.#db.batch()).put(key, value)
  }

  /** Something was entered or recorded: the batch must be written. */
  get dirty (): boolean {
    return this.#chained !== null
  }

  /**
   * Adds the count updates and the store state (last seq, last HLC), then
   * writes everything as one atomic batch. Counts not in the cache are read
   * here, once per user. Call only if the batch is `dirty`.
   */
  async write (stateKey: Buffer, hlc: number, options: { sync: boolean }): Promise<void> {
    const batch = this.#chained
    if (batch === null) throw new TypeError('nothing to write')
    try {
      const unknown: string[] = []
      for (const [user, delta] of this.#deltas) {
        if (delta === 0) continue
        const cached = this.#caches.counts.get(user)
        if (cached === undefined) unknown.push(user)
        else this.#counts.set(user, cached)
      }
      if (unknown.length > 0) {
        const values = await this.#db.getMany(unknown.map(countKey))
        values.forEach((value, i) => this.#counts.set(unknown[i], value === undefined ? 0 : decodeNumbers(value, 1, 'count')[0]))
      }
      for (const [user, before] of this.#counts) {
        // Never below 0: a count is only ever moved by transitions this code made.
        const after = Math.max(0, before + (this.#deltas.get(user) as number))
        this.#counts.set(user, after)
        if (after === 0) batch.del(countKey(user))
        else batch.put(countKey(user), encodeNumbers([after]))
      }
      batch.put(stateKey, encodeNumbers([this.lastSeq, hlc]))
    } catch (err) {
      await batch.close()
      throw err
    }
    await batch.write(options)
  }

  /** Once the batch is durable: its winners and counts are the committed state. */
  committed (): void {
    for (const [id, slot] of this.#slots) {
      if (slot.winner !== undefined) this.#caches.winners.set(id, slot.winner)
    }
    for (const [user, count] of this.#counts) this.#caches.counts.set(user, count)
  }

  #slot (user: string, message: string): Slot {
    const slot = this.#slots.get(pairId(user, message))
    if (slot === undefined) throw new TypeError('pair not loaded before use')
    return slot
  }

  #logKey (user: string, seq: number): Buffer {
    let prefix = this.#logPrefixes.get(user)
    if (prefix === undefined) {
      prefix = userPrefix(FAMILY.log, user)
      this.#logPrefixes.set(user, prefix)
    }
    return withSeq(prefix, seq)
  }

  /** A message is in the unread table iff its winner's status is `unread`. */
  #unreadTransition (slot: Slot, user: string, after: Status): void {
    const wasUnread = slot.winner?.status === 'unread'
    const isUnread = after === 'unread'
    if (wasUnread === isUnread) return
    // Same components as the winner key, another family.
    const key = Buffer.from(slot.key)
    key[0] = FAMILY.unread
    const batch = this.#chained as ChainedBatch
    if (isUnread) batch.put(key, MARKER)
    else batch.del(key)
    this.#deltas.set(user, (this.#deltas.get(user) ?? 0) + (isUnread ? 1 : -1))
  }
}

