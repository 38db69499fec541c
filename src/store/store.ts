/**
 * The node's durable state: change feed, per-user logs, winners, unread
 * tables and counts, replication cursors, all in one LevelDB.
 *
 * Flow of a write: `mark`/`applyRemote` validate their input (a bad change
 * throws before anything is queued), then queue a job. The write queue runs
 * one group of jobs at a time: each job reads the winners it needs (the
 * batch's own earlier winners first, then disk), decides what enters, and adds
 * operations to one shared `ChangeBatch`; the batch is written atomically
 * (with `sync: true` under `sync` durability: one fsync for every waiting
 * caller), and only then do callers resolve and `'entered'` fire.
 * See docs/storage.md.
 */
import { EventEmitter } from 'node:events'
import type { Level } from 'level'
import {
  DEFAULT_DURABILITY, DEFAULT_LOG_RETENTION_MS, DEFAULT_MAX_CLOCK_SKEW_MS,
  COUNT_CACHE_ENTRIES, MAX_BATCH_ENTRIES, MAX_GROUP_COMMIT_ENTRIES, PURGE_CHUNK_ENTRIES,
  SUPERSEDED_WINDOW_SEQS, WINNER_CACHE_ENTRIES
} from '../limits.js'
import { MarksyncError } from '../errors.js'
import { HybridClock, physicalMs, type WallClock } from '../hlc.js'
import { checkChange, checkLocalChange, checkNodeId, checkUser } from '../validate.js'
import type { ApplyResult, Change, LocalChange, LogEntry, MessageState } from '../types.js'
import type { Durability, PurgeResult, StatusStore, StoreEvents, StoreOptions, WinnersOptions } from './api.js'
import { BoundedCache } from './bounded-cache.js'
import { ChangeBatch, type StoreCaches } from './change-batch.js'
import { applyJob, markJob, type ChangeJob, type Job } from './jobs.js'
import { decodeNumbers, encodeNumbers } from './codec.js'
import { FAMILY, cursorKey, seqOfKey, userPrefix } from './keys.js'
import { META, openDb } from './open-db.js'
import { purgeChunk } from './purge.js'
import { checkSeq, readFeed, readLog, readUnread, readWinner, readWinners } from './reads.js'
import { compareChanges } from './precedence.js'
import { SupersededSeqs } from './superseded.js'
import { WriteQueue } from './write-queue.js'

const FEED_START = Buffer.of(FAMILY.feed)
const FEED_END = Buffer.of(FAMILY.feed + 1)

function checkDuration (ms: number, what: string): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new TypeError(`${what} must be a number of ms >= 0`)
  return ms
}

export class Store extends EventEmitter<StoreEvents> implements StatusStore {
  readonly nodeId: string
  readonly durability: Durability
  readonly #location: string
  readonly #retentionMs: number
  readonly #maxClockSkewMs: number
  readonly #wallClock: WallClock
  readonly #monotonicClock: (() => number) | null | undefined
  readonly #queue = new WriteQueue<Job>(async jobs => await this.#runGroup(jobs), MAX_GROUP_COMMIT_ENTRIES)
  readonly #caches: StoreCaches = { winners: new BoundedCache(WINNER_CACHE_ENTRIES), counts: new BoundedCache(COUNT_CACHE_ENTRIES) }
  readonly #superseded = new SupersededSeqs(SUPERSEDED_WINDOW_SEQS)
  #db: Level<Buffer, Buffer> | null = null
  #state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new'
  #clock: HybridClock
  #lastSeq = 0
  #oldestSeq = 1
  #persistedHlc = 0

  constructor (options: StoreOptions) {
    super()
    if (typeof options?.location !== 'string' || options.location === '') throw new TypeError('location must be a non-empty string')
    this.nodeId = checkNodeId(options.nodeId, 'INVALID_NODE_ID')
    this.durability = options.durability ?? DEFAULT_DURABILITY
    if (this.durability !== 'sync' && this.durability !== 'relaxed') throw new TypeError("durability must be 'sync' or 'relaxed'")
    this.#location = options.location
    this.#retentionMs = checkDuration(options.retentionMs ?? DEFAULT_LOG_RETENTION_MS, 'retentionMs')
    this.#maxClockSkewMs = checkDuration(options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS, 'maxClockSkewMs')
    this.#wallClock = options.wallClock ?? Date.now
    this.#monotonicClock = options.monotonicClock
    this.#clock = this.#newClock(0)
  }

  get lastSeq (): number { return this.#lastSeq }
  get oldestSeq (): number { return this.#oldestSeq }
  get clock (): HybridClock { return this.#clock }

  async open (): Promise<void> {
    if (this.#state !== 'new') throw new MarksyncError('STORE_NOT_OPEN', `a store opens once (it is ${this.#state})`)
    this.#state = 'opening'
    try {
      const { db, lastSeq, lastHlc } = await openDb(this.#location, this.nodeId)
      this.#db = db
      this.#lastSeq = lastSeq
      this.#persistedHlc = lastHlc
      // Resume after the last persisted timestamp, so the clock never runs backwards across a restart.
      const clock = this.#newClock(lastHlc)
      clock.setCorrection(this.#clock.correctionMs)
      this.#clock = clock
      const first = await db.keys({ gt: FEED_START, lt: FEED_END, limit: 1 }).all()
      this.#oldestSeq = first.length === 0 ? lastSeq + 1 : seqOfKey(first[0])
      this.#state = 'open'
    } catch (err) {
      this.#state = 'closed'
      throw err
    }
  }

  /** Waits for queued writes, persists the clock, closes the database. Idempotent. */
  async close (): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    await this.#queue.idle()
    const db = this.#db as Level<Buffer, Buffer>
    try {
      // Timestamps issued outside a write (e.g. `clock.now()` by a caller) must not be reissued after a restart.
      if (this.#clock.last > this.#persistedHlc) {
        await db.put(META.state, encodeNumbers([this.#lastSeq, this.#clock.last]), { sync: true })
      }
    } finally {
      this.#state = 'closed'
      await db.close()
    }
  }

  async mark (changes: LocalChange[]): Promise<LogEntry[]> {
    this.#db$()
    const clean = this.#checkBatch(changes).map(checkLocalChange)
    if (clean.length === 0) return []
    return await new Promise<LogEntry[]>((resolve, reject) => {
      this.#queue.push(markJob(clean, this.nodeId, this.#clock, resolve, reject))
    })
  }

  async applyRemote (changes: Change[], options: { from?: string } = {}): Promise<ApplyResult> {
    this.#db$()
    const clean = this.#checkBatch(changes).map(checkChange)
    const from = options.from === undefined ? undefined : checkNodeId(options.from, 'INVALID_ORIGIN')
    if (clean.length === 0) return { entered: [], stale: 0, duplicate: 0 }
    return await new Promise<ApplyResult>((resolve, reject) => {
      this.#queue.push(applyJob(clean, from, this.#clock, resolve, reject))
    })
  }

  async unread (user: string, options: { after?: string, limit?: number } = {}): Promise<string[]> {
    return await readUnread(this.#db$(), user, options)
  }

  async unreadCount (user: string): Promise<number> {
    const db = this.#db$()
    // The cache only ever holds committed counts, so it answers as the disk would.
    const cached = this.#caches.counts.get(checkUser(user))
    if (cached !== undefined) return cached
    const value = await db.get(userPrefix(FAMILY.count, user))
    return value === undefined ? 0 : decodeNumbers(value, 1, 'count')[0]
  }

  async get (user: string, message: string): Promise<MessageState | undefined> {
    return await readWinner(this.#db$(), user, message)
  }

  async log (user: string, options: { after?: number, limit?: number } = {}): Promise<LogEntry[]> {
    return await readLog(this.#db$(), user, options)
  }

  async feed (afterSeq: number, limit: number): Promise<LogEntry[]> {
    return await readFeed(this.#db$(), afterSeq, limit)
  }

  isSuperseded (seq: number): boolean {
    return this.#superseded.has(seq)
  }

  winners (options: WinnersOptions = {}): AsyncIterable<MessageState> {
    return readWinners(this.#db$(), options)
  }

  async purge (olderThan: number): Promise<PurgeResult> {
    const db = this.#db$()
    if (!Number.isFinite(olderThan)) throw new TypeError('olderThan must be a time in ms')
    let removed = 0
    // Chunk by chunk through the queue: bounded memory, and writes are not held up for long.
    for (;;) {
      this.#db$() // a close() between chunks ends the purge
      const chunk = await this.#solo(async () => {
        const result = await purgeChunk(db, this.#oldestSeq, this.#lastSeq, olderThan, PURGE_CHUNK_ENTRIES, this.#syncOption())
        this.#oldestSeq = result.oldestSeq
        return result
      })
      removed += chunk.removed
      if (chunk.done) return { removed, oldestSeq: this.#oldestSeq }
    }
  }

  async purgeExpired (): Promise<PurgeResult> {
    return await this.purge(this.#wallClock() - this.#retentionMs)
  }

  async getCursor (peer: string): Promise<number> {
    const value = await this.#db$().get(cursorKey(checkNodeId(peer, 'INVALID_PEER')))
    return value === undefined ? 0 : decodeNumbers(value, 1, 'cursor')[0]
  }

  async setCursor (peer: string, seq: number): Promise<void> {
    const db = this.#db$()
    const key = cursorKey(checkNodeId(peer, 'INVALID_PEER'))
    const value = encodeNumbers([checkSeq(seq, 'seq')])
    await this.#solo(async () => await db.put(key, value, this.#syncOption()))
  }

  // ---- internals ----

  #db$ (): Level<Buffer, Buffer> {
    if (this.#state !== 'open' || this.#db === null) throw new MarksyncError('STORE_NOT_OPEN', `store is ${this.#state === 'opening' ? 'still opening' : this.#state}`)
    return this.#db
  }

  #checkBatch (changes: unknown[]): unknown[] {
    if (!Array.isArray(changes)) throw new TypeError('changes must be an array')
    if (changes.length > MAX_BATCH_ENTRIES) throw new MarksyncError('BATCH_TOO_LARGE', `${changes.length} changes in one call; the limit is ${MAX_BATCH_ENTRIES}`)
    return changes
  }

  #syncOption (): { sync: boolean } {
    return { sync: this.durability === 'sync' }
  }

  async #solo<T> (run: () => Promise<T>): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      this.#queue.push({ alone: true, size: 1, run: async () => { await run().then(resolve, reject) } })
    })
  }

  /** The clock reports its wall clock's steps (either way) as 'clock-jump'. */
  #newClock (last: number): HybridClock {
    return new HybridClock({
      last,
      wallClock: this.#wallClock,
      maxDriftMs: this.#maxClockSkewMs,
      monotonicClock: this.#monotonicClock,
      onStep: step => { this.#emitSafely('clock-jump', step) }
    })
  }

  /** One wall clock reading per batch (through the clock, which notices steps). */
  #readWall (): number {
    return this.#clock.wallTime()
  }

  async #runGroup (jobs: Job[]): Promise<void> {
    if (jobs[0].alone) {
      await jobs[0].run()
      return
    }
    const changeJobs = jobs as ChangeJob[]
    const db = this.#db as Level<Buffer, Buffer>
    const batch = new ChangeBatch(db, this.#lastSeq, this.#caches)
    const localTime = this.#readWall()
    try {
      // One read for the whole group: 64 single-change calls would otherwise wait for 64 reads in turn.
      await batch.load(changeJobs.length === 1 ? changeJobs[0].pairs : changeJobs.flatMap(job => job.pairs))
    } catch (err) {
      for (const job of changeJobs) job.reject(err)
      return
    }
    const accepted: Array<{ job: ChangeJob, done: () => void }> = []
    for (const job of changeJobs) {
      try {
        accepted.push({ job, done: await job.apply(batch, localTime) })
      } catch (err) {
        // A job throws only before it adds anything to the batch; the others go on.
        job.reject(err)
      }
    }
    if (batch.entries.length > 0) {
      try {
        const hlc = this.#clock.last
        await batch.write(META.state, hlc, this.#syncOption())
        this.#lastSeq = batch.lastSeq
        this.#persistedHlc = hlc
        batch.committed()
        this.#superseded.committed(batch.entries.map(e => e.seq), batch.beaten)
      } catch (err) {
        for (const { job } of accepted) job.reject(err)
        return
      }
      this.#emitSafely('entered', batch.entries)
    }
    for (const { done } of accepted) done()
  }

  /** A throwing listener is a bug of the listener; it must not break the write queue. */
  #emitSafely<K extends keyof StoreEvents> (event: K, ...args: StoreEvents[K]): void {
    try {
      EventEmitter.prototype.emit.call(this, event, ...args) // Node's typed emit cannot take a generic key
    } catch (err) {
      process.nextTick(() => { throw err })
    }
  }
}
