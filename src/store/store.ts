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
 *
 * The class keeps the store's state and the order of its operations; the parts
 * with one job each are modules of this folder: the group commit
 * (group-commit.ts), reads (reads.ts), the database handle and its faults
 * (db-gate.ts, fault.ts), purge (purge.ts) and what it keeps per peer
 * (peer-state.ts), the last two over a narrow StoreAccess (access.ts).
 */
import { EventEmitter } from 'node:events'
import {
  DEFAULT_DURABILITY, DEFAULT_LOG_RETENTION_MS, DEFAULT_MAX_CLOCK_SKEW_MS,
  COUNT_CACHE_ENTRIES, MAX_BATCH_ENTRIES, MAX_GROUP_COMMIT_ENTRIES, RECENT_FEED_ENTRIES, SUPERSEDED_WINDOW_SEQS, WINNER_CACHE_ENTRIES
} from '../limits.js'
import { MarksyncError } from '../errors.js'
import { HybridClock, type WallClock } from '../hlc.js'
import { checkChange, checkLocalChange, checkMessage, checkNodeId, checkUser } from '../validate.js'
import type { ApplyResult, Change, LocalChange, LogEntry, MessageState } from '../types.js'
import type { Durability, MarkOptions, PurgeResult, StatusStore, StoreEvents, StoreOptions, WinnersOptions } from './api.js'
import { BoundedCache } from './bounded-cache.js'
import type { StoreCaches } from './change-batch.js'
import { commitGroup, type GroupHost } from './group-commit.js'
import { applyJob, markJob, type ChangeJob, type Job } from './jobs.js'
import { decodeNumbers, encodeNumbers } from './codec.js'
import { DbGate } from './db-gate.js'
import { checkLevelDbTuning, type LevelDbTuning } from './db-tuning.js'
import type { StoreFault } from './fault.js'
import { FAMILY, userPrefix } from './keys.js'
import type { PeerRecord } from './peer-record.js'
import { readCursor, readPeerRecord, writeCursor, writePeerRecord } from './peer-state.js'
import { META, newIncarnation, type OpenedDb } from './open-db.js'
import { purgeOlderThan, type FeedBounds } from './purge.js'
import { checkLimit, checkSeq, readFeed, readLog, readOldestSeq, readUnread, readWinner, readWinnersOf, readWinners } from './reads.js'
import { RecentFeed } from './recent-feed.js'
import { SupersededSeqs } from './superseded.js'
import { WriteQueue } from './write-queue.js'
import { readDiscards, type DiscardRecord } from './discards.js'

function checkDuration (ms: number, what: string): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new TypeError(`${what} must be a number of ms >= 0`)
  return ms
}

export class Store extends EventEmitter<StoreEvents> implements StatusStore {
  readonly nodeId: string
  readonly durability: Durability
  /** The options LevelDB is opened with (the defaults, with StoreOptions.leveldb over them). */
  readonly leveldb: Readonly<LevelDbTuning>
  readonly #retentionMs: number
  readonly #maxClockSkewMs: number
  readonly #wallClock: WallClock
  readonly #monotonicClock: (() => number) | null | undefined
  readonly #queue = new WriteQueue<Job>(async jobs => await this.#runGroup(jobs), MAX_GROUP_COMMIT_ENTRIES)
  readonly #caches: StoreCaches = { winners: new BoundedCache(WINNER_CACHE_ENTRIES), counts: new BoundedCache(COUNT_CACHE_ENTRIES) }
  readonly #recentFeed = new RecentFeed(RECENT_FEED_ENTRIES)
  readonly #superseded = new SupersededSeqs(SUPERSEDED_WINDOW_SEQS)
  #clock: HybridClock
  #lastSeq = 0
  #oldestSeq = 1
  #persistedHlc = 0
  #incarnation = ''
  readonly #gate: DbGate

  constructor (options: StoreOptions) {
    super()
    if (typeof options?.location !== 'string' || options.location === '') throw new TypeError('location must be a non-empty string')
    this.nodeId = checkNodeId(options.nodeId, 'INVALID_NODE_ID')
    this.durability = options.durability ?? DEFAULT_DURABILITY
    if (this.durability !== 'sync' && this.durability !== 'relaxed') throw new TypeError("durability must be 'sync' or 'relaxed'")
    this.#retentionMs = checkDuration(options.retentionMs ?? DEFAULT_LOG_RETENTION_MS, 'retentionMs')
    this.#maxClockSkewMs = checkDuration(options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS, 'maxClockSkewMs')
    this.#wallClock = options.wallClock ?? Date.now
    this.leveldb = Object.freeze(checkLevelDbTuning(options.leveldb))
    this.#monotonicClock = options.monotonicClock
    this.#clock = this.#newClock(0)
    this.#gate = new DbGate({
      location: options.location,
      nodeId: this.nodeId,
      durability: this.durability,
      tuning: this.leveldb,
      queue: this.#queue,
      now: () => this.#wallClock(),
      adopt: async opened => { await this.#adopt(opened) },
      onFault: fault => { this.#emitSafely('store-fault', fault) },
      onRecovered: recovered => { this.#emitSafely('store-recovered', recovered) }
    })
  }

  get lastSeq (): number { return this.#lastSeq }
  get oldestSeq (): number { return this.#oldestSeq }
  get clock (): HybridClock { return this.#clock }
  /** This incarnation of the node (docs/storage.md "Incarnation"); '' before open(). */
  get incarnation (): string { return this.#incarnation }
  /** Why the store cannot write right now, or null when it can (docs/storage.md "Store faults"). */
  get fault (): StoreFault | null { return this.#gate.fault }
  /** LevelDB's estimate of its block cache and memtables, in bytes; throws STORE_NOT_OPEN when not open. */
  leveldbMemoryBytes (): number { return this.#gate.memoryBytes() }

  async open (): Promise<void> {
    await this.#gate.open(async opened => {
      this.#incarnation = opened.incarnation
      // Resume after the last persisted timestamp, so the clock never runs backwards across a restart.
      const clock = this.#newClock(opened.lastHlc)
      clock.setCorrection(this.#clock.correctionMs)
      this.#clock = clock
      await this.#adopt(opened)
    })
  }

  /** Reads what a (re)opened database holds: seqs, clock; forgets every cached value. */
  async #adopt (opened: OpenedDb): Promise<void> {
    const { db, lastSeq, lastHlc } = opened
    this.#lastSeq = lastSeq
    this.#persistedHlc = lastHlc
    if (lastHlc > this.#clock.last) this.#clock.receive(lastHlc)
    this.#caches.winners.clear()
    this.#caches.counts.clear()
    this.#recentFeed.reset(lastSeq)
    this.#oldestSeq = await readOldestSeq(db, lastSeq)
  }

  /** Waits for queued writes, persists the clock, closes the database. Idempotent. */
  async close (): Promise<void> {
    await this.#gate.close(async db => {
      // Timestamps issued outside a write (e.g. `clock.now()` by a caller) must not be reissued after a restart.
      // A failing store cannot write it (the gate does not ask then); its clock was persisted with its last batch.
      if (this.#clock.last > this.#persistedHlc) {
        await db.put(META.state, encodeNumbers([this.#lastSeq, this.#clock.last]), { sync: true })
      }
    })
  }

  async mark (changes: LocalChange[], options: MarkOptions = {}): Promise<LogEntry[]> {
    this.#gate.writable()
    const clean = this.#checkBatch(changes).map(checkLocalChange)
    if (clean.length === 0) return []
    return await new Promise<LogEntry[]>((resolve, reject) => {
      this.#queue.push(markJob(clean, options.skipUnchanged === true, this.nodeId, this.#clock, resolve, reject))
    })
  }

  async applyRemote (changes: Change[], options: { from?: string } = {}): Promise<ApplyResult> {
    this.#gate.writable()
    const clean = this.#checkBatch(changes).map(checkChange)
    const from = options.from === undefined ? undefined : checkNodeId(options.from, 'INVALID_ORIGIN')
    if (clean.length === 0) return { entered: [], stale: 0, duplicate: 0 }
    return await new Promise<ApplyResult>((resolve, reject) => {
      this.#queue.push(applyJob(clean, from, this.#clock, resolve, reject))
    })
  }

  async unread (user: string, options: { after?: string, limit?: number } = {}): Promise<string[]> {
    return await readUnread(this.#gate.readDb(), user, options)
  }

  async unreadCount (user: string): Promise<number> {
    const db = this.#gate.readDb()
    // The cache only ever holds committed counts, so it answers as the disk would.
    const cached = this.#caches.counts.get(checkUser(user))
    if (cached !== undefined) return cached
    const value = await db.get(userPrefix(FAMILY.count, user))
    return value === undefined ? 0 : decodeNumbers(value, 1, 'count')[0]
  }

  async get (user: string, message: string): Promise<MessageState | undefined> {
    return await readWinner(this.#gate.readDb(), user, message)
  }

  async getMany (user: string, messages: readonly string[]): Promise<Array<MessageState | undefined>> {
    return await readWinnersOf(this.#gate.readDb(), this.#caches.winners, user, messages)
  }

  async log (user: string, options: { after?: number, limit?: number } = {}): Promise<LogEntry[]> {
    return await readLog(this.#gate.readDb(), user, options)
  }

  async feed (afterSeq: number, limit: number): Promise<LogEntry[]> {
    const db = this.#gate.readDb()
    return this.#recentFeed.after(checkSeq(afterSeq, 'afterSeq'), checkLimit(limit), this.#oldestSeq) ?? await readFeed(db, afterSeq, limit)
  }

  isSuperseded (seq: number): boolean {
    return this.#superseded.has(seq)
  }

  winners (options: WinnersOptions = {}): AsyncIterable<MessageState> {
    return readWinners(this.#gate.readDb(), options)
  }

  async purge (olderThan: number): Promise<PurgeResult> {
    const removed = await purgeOlderThan(this.#gate, this.#feedBounds, olderThan)
    return { removed, oldestSeq: this.#oldestSeq }
  }

  /** The discarded changes kept for one message (src/store/discards.ts). */
  async discarded (user: string, message: string): Promise<DiscardRecord[]> {
    return await readDiscards(this.#gate.readDb(), checkUser(user), checkMessage(message))
  }

  async purgeExpired (): Promise<PurgeResult> {
    return await this.purge(this.#wallClock() - this.#retentionMs)
  }

  async getCursor (peer: string): Promise<number> { return await readCursor(this.#gate, peer) }
  async setCursor (peer: string, seq: number): Promise<void> { await writeCursor(this.#gate, peer, seq) }
  /** What this node knows of a peer's incarnation (docs/protocol.md "Incarnations"). */
  async getPeerRecord (peer: string): Promise<PeerRecord> { return await readPeerRecord(this.#gate, peer) }
  async setPeerRecord (peer: string, record: PeerRecord): Promise<void> { await writePeerRecord(this.#gate, peer, record) }

  /**
   * This store is an older copy of the node (a peer acknowledged more of its feed than it
   * holds): it becomes a new incarnation, so that every peer stops trusting its cursors.
   */
  async reincarnate (): Promise<string> {
    this.#gate.writable()
    const fresh = newIncarnation()
    await this.#gate.solo(async db => { await db.put(META.incarnation, Buffer.from(fresh, 'latin1'), { sync: true }) })
    this.#incarnation = fresh
    return fresh
  }

  // ---- internals ----

  #checkBatch (changes: unknown[]): unknown[] {
    if (!Array.isArray(changes)) throw new TypeError('changes must be an array')
    if (changes.length > MAX_BATCH_ENTRIES) throw new MarksyncError('BATCH_TOO_LARGE', `${changes.length} changes in one call; the limit is ${MAX_BATCH_ENTRIES}`)
    return changes
  }

  readonly #feedBounds: FeedBounds = {
    oldestSeq: () => this.#oldestSeq,
    lastSeq: () => this.#lastSeq,
    purged: seq => { this.#oldestSeq = seq }
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
    db: () => this.#gate.jobDb(),
    lastSeq: () => this.#lastSeq,
    caches: this.#caches,
    wallTime: () => this.#clock.wallTime(),
    hlc: () => this.#clock.last,
    sync: () => this.#gate.sync(),
    failed: err => this.#gate.failed(err),
    committed: (batch, hlc) => {
      this.#lastSeq = batch.lastSeq
      this.#persistedHlc = hlc
      batch.committed()
      this.#recentFeed.committed(batch.entries)
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
