/* eslint-disable max-lines -- faults, incarnations, cursors and purge still live in the class: to split (issue 13) */
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
  STORE_RECOVERY_INTERVAL_MS, STORE_RECOVERY_MIN_FREE_BYTES, SUPERSEDED_WINDOW_SEQS, WINNER_CACHE_ENTRIES
} from '../limits.js'
import { MarksyncError } from '../errors.js'
import { HybridClock, type WallClock } from '../hlc.js'
import { checkChange, checkLocalChange, checkMessage, checkNodeId, checkUser } from '../validate.js'
import type { ApplyResult, Change, LocalChange, LogEntry, MessageState } from '../types.js'
import type { Durability, PurgeResult, StatusStore, StoreEvents, StoreOptions, WinnersOptions } from './api.js'
import { BoundedCache } from './bounded-cache.js'
import type { StoreCaches } from './change-batch.js'
import { commitGroup, type GroupHost } from './group-commit.js'
import { applyJob, markJob, type ChangeJob, type Job } from './jobs.js'
import { decodeNumbers, encodeNumbers } from './codec.js'
import { FaultWatch, faultError, type StoreFault } from './fault.js'
import { FAMILY, cursorKey, peerRecordKey, seqOfKey, userPrefix } from './keys.js'
import { NO_PEER_RECORD, decodePeerRecord, encodePeerRecord, type PeerRecord } from './peer-record.js'
import { META, newIncarnation, openDb, type OpenedDb } from './open-db.js'
import { purgeChunk } from './purge.js'
import { checkSeq, readFeed, readLog, readUnread, readWinner, readWinners } from './reads.js'
import { SupersededSeqs } from './superseded.js'
import { WriteQueue } from './write-queue.js'
import { purgeDiscards, readDiscards, type DiscardRecord } from './discards.js'

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
  #incarnation = ''
  readonly #faults: FaultWatch

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
    this.#faults = new FaultWatch({
      location: this.#location,
      now: () => this.#wallClock(),
      reopen: async () => await this.#reopen(),
      onFault: fault => { this.#emitSafely('store-fault', fault) },
      onRecovered: recovered => { this.#emitSafely('store-recovered', recovered) },
      intervalMs: STORE_RECOVERY_INTERVAL_MS,
      minFreeBytes: STORE_RECOVERY_MIN_FREE_BYTES
    })
  }

  get lastSeq (): number { return this.#lastSeq }
  get oldestSeq (): number { return this.#oldestSeq }
  get clock (): HybridClock { return this.#clock }
  /** This incarnation of the node (docs/storage.md "Incarnation"); '' before open(). */
  get incarnation (): string { return this.#incarnation }
  /** Why the store cannot write right now, or null when it can (docs/storage.md "Store faults"). */
  get fault (): StoreFault | null { return this.#faults.fault }

  async open (): Promise<void> {
    if (this.#state !== 'new') throw new MarksyncError('STORE_NOT_OPEN', `a store opens once (it is ${this.#state})`)
    this.#state = 'opening'
    try {
      const opened = await openDb(this.#location, this.nodeId)
      this.#incarnation = opened.incarnation
      // Resume after the last persisted timestamp, so the clock never runs backwards across a restart.
      const clock = this.#newClock(opened.lastHlc)
      clock.setCorrection(this.#clock.correctionMs)
      this.#clock = clock
      await this.#adopt(opened)
      this.#state = 'open'
    } catch (err) {
      this.#state = 'closed'
      throw err
    }
  }

  /** Reads what a (re)opened database holds: seqs, clock; forgets every cached value. */
  async #adopt (opened: OpenedDb): Promise<void> {
    const { db, lastSeq, lastHlc } = opened
    this.#db = db
    this.#lastSeq = lastSeq
    this.#persistedHlc = lastHlc
    if (lastHlc > this.#clock.last) this.#clock.receive(lastHlc)
    this.#caches.winners.clear()
    this.#caches.counts.clear()
    const first = await db.keys({ gt: FEED_START, lt: FEED_END, limit: 1 }).all()
    this.#oldestSeq = first.length === 0 ? lastSeq + 1 : seqOfKey(first[0])
  }

  /** Waits for queued writes, persists the clock, closes the database. Idempotent. */
  async close (): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    this.#faults.stop()
    await this.#queue.idle()
    const db = this.#db
    if (db === null) {
      this.#state = 'closed' // a failed reopen left nothing open
      return
    }
    try {
      // Timestamps issued outside a write (e.g. `clock.now()` by a caller) must not be reissued after a restart.
      // A failing store cannot write it; its clock was persisted with its last batch.
      if (this.#faults.fault === null && this.#clock.last > this.#persistedHlc) {
        await db.put(META.state, encodeNumbers([this.#lastSeq, this.#clock.last]), { sync: true })
      }
    } finally {
      this.#state = 'closed'
      // After a fault LevelDB may refuse a clean close; its files are closed anyway.
      await db.close().catch(err => { if (this.#faults.fault === null) throw err })
    }
  }

  async mark (changes: LocalChange[]): Promise<LogEntry[]> {
    this.#writable$()
    const clean = this.#checkBatch(changes).map(checkLocalChange)
    if (clean.length === 0) return []
    return await new Promise<LogEntry[]>((resolve, reject) => {
      this.#queue.push(markJob(clean, this.nodeId, this.#clock, resolve, reject))
    })
  }

  async applyRemote (changes: Change[], options: { from?: string } = {}): Promise<ApplyResult> {
    this.#writable$()
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
    this.#writable$()
    if (!Number.isFinite(olderThan)) throw new TypeError('olderThan must be a time in ms')
    let removed = 0
    // Chunk by chunk through the queue: bounded memory, and writes are not held up for long.
    for (;;) {
      this.#writable$() // a close() or a fault between chunks ends the purge
      const chunk = await this.#solo(async () => {
        const result = await purgeChunk(this.#jobDb(), this.#oldestSeq, this.#lastSeq, olderThan, PURGE_CHUNK_ENTRIES, this.#syncOption())
        this.#oldestSeq = result.oldestSeq
        return result
      })
      removed += chunk.removed
      if (chunk.done) break
    }
    await this.#purgeDiscards(olderThan)
    return { removed, oldestSeq: this.#oldestSeq }
  }

  /** Discarded changes go with the log: chunk by chunk, by the same horizon. */
  async #purgeDiscards (olderThan: number): Promise<void> {
    let after: Buffer | null = null
    do {
      this.#writable$()
      const from: Buffer | null = after
      after = (await this.#solo(async () => await purgeDiscards(this.#jobDb(), from, olderThan, PURGE_CHUNK_ENTRIES, this.#syncOption()))).next
    } while (after !== null)
  }

  /** The discarded changes kept for one message (src/store/discards.ts). */
  async discarded (user: string, message: string): Promise<DiscardRecord[]> {
    return await readDiscards(this.#db$(), checkUser(user), checkMessage(message))
  }

  async purgeExpired (): Promise<PurgeResult> {
    return await this.purge(this.#wallClock() - this.#retentionMs)
  }

  async getCursor (peer: string): Promise<number> {
    const value = await this.#db$().get(cursorKey(checkNodeId(peer, 'INVALID_PEER')))
    return value === undefined ? 0 : decodeNumbers(value, 1, 'cursor')[0]
  }

  async setCursor (peer: string, seq: number): Promise<void> {
    this.#writable$()
    const key = cursorKey(checkNodeId(peer, 'INVALID_PEER'))
    const value = encodeNumbers([checkSeq(seq, 'seq')])
    await this.#solo(async () => { await this.#jobDb().put(key, value, this.#syncOption()) })
  }

  /** What this node knows of a peer's incarnation (docs/protocol.md "Incarnations"). */
  async getPeerRecord (peer: string): Promise<PeerRecord> {
    const value = await this.#db$().get(peerRecordKey(checkNodeId(peer, 'INVALID_PEER')))
    return value === undefined ? { ...NO_PEER_RECORD } : decodePeerRecord(value)
  }

  async setPeerRecord (peer: string, record: PeerRecord): Promise<void> {
    this.#writable$()
    const key = peerRecordKey(checkNodeId(peer, 'INVALID_PEER'))
    const value = encodePeerRecord({ ...record, acked: checkSeq(record.acked, 'acked') })
    await this.#solo(async () => { await this.#jobDb().put(key, value, this.#syncOption()) })
  }

  /**
   * This store is an older copy of the node (a peer acknowledged more of its feed than it
   * holds): it becomes a new incarnation, so that every peer stops trusting its cursors.
   */
  async reincarnate (): Promise<string> {
    this.#writable$()
    const fresh = newIncarnation()
    await this.#solo(async () => { await this.#jobDb().put(META.incarnation, Buffer.from(fresh, 'latin1'), { sync: true }) })
    this.#incarnation = fresh
    return fresh
  }

  // ---- internals ----

  #db$ (): Level<Buffer, Buffer> {
    if (this.#state !== 'open') throw new MarksyncError('STORE_NOT_OPEN', `store is ${this.#state === 'opening' ? 'still opening' : this.#state}`)
    // Only while a failing store reopens (or failed to): reads wait for the reopen.
    if (this.#db === null) throw faultError(this.#faults.fault as StoreFault)
    return this.#db
  }

  /** The database for a job the queue runs (also while closing: close() waits for them). */
  #jobDb (): Level<Buffer, Buffer> {
    const fault = this.#faults.fault
    if (fault !== null) throw faultError(fault)
    return this.#db as Level<Buffer, Buffer>
  }

  /** The database, if it can take writes now; else the fault's error. */
  #writable$ (): Level<Buffer, Buffer> {
    const db = this.#db$()
    if (this.#faults.fault !== null) throw faultError(this.#faults.fault)
    return db
  }

  /** Closes the failed database and opens it again (a solo job: no write runs meanwhile). */
  async #reopen (): Promise<boolean> {
    return await new Promise<boolean>((resolve, reject) => {
      this.#queue.push({
        alone: true,
        size: 1,
        run: async () => {
          if (this.#state !== 'open') return resolve(false)
          const old = this.#db
          this.#db = null
          // LevelDB may refuse a clean close after the fault; its files are closed anyway.
          await old?.close().catch(() => {})
          try {
            await this.#adopt(await openDb(this.#location, this.nodeId))
            resolve(true)
          } catch (err) {
            reject(err)
          }
        }
      })
    })
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
      this.#queue.push({ alone: true, size: 1, run: async () => { await run().then(resolve, err => reject(this.#faults.failed(err))) } })
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

  async #runGroup (jobs: Job[]): Promise<void> {
    if (jobs[0].alone) {
      await jobs[0].run()
      return
    }
    await commitGroup(jobs as ChangeJob[], this.#groupHost)
  }

  readonly #groupHost: GroupHost = {
    db: () => this.#jobDb(),
    lastSeq: () => this.#lastSeq,
    caches: this.#caches,
    wallTime: () => this.#clock.wallTime(),
    hlc: () => this.#clock.last,
    sync: () => this.#syncOption(),
    failed: err => this.#faults.failed(err),
    committed: (batch, hlc) => {
      this.#lastSeq = batch.lastSeq
      this.#persistedHlc = hlc
      batch.committed()
      this.#superseded.committed(batch.entries.map(e => e.seq), batch.beaten)
    },
    entered: entries => { this.#emitSafely('entered', entries) }
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
