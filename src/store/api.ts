import type { DiscardRecord } from './discards.js'
import type { EventEmitter } from 'node:events'
import type { ApplyResult, Change, LocalChange, LogEntry, MessageState } from '../types.js'
import type { ClockStep, HybridClock, WallClock } from '../hlc.js'
import type { StoreFault } from './fault.js'
import type { PeerRecord } from './peer-record.js'
import type { LevelDbTuning } from './db-tuning.js'

import type { Durability, PurgeResult } from '../contracts.js'

export type { Durability, PurgeResult }

export interface StoreOptions {
  /** LevelDB directory; created if missing. */
  location: string
  /** This node's id; the store remembers it and refuses to open under another (`NODE_ID_MISMATCH`). */
  nodeId: string
  /** `sync` (default): fsync before a write resolves, concurrent writes group-committed. */
  durability?: Durability
  /** Log retention by local time, in ms; `purgeExpired()` removes what is older. */
  retentionMs?: number
  /** Largest lead (ms) a received timestamp may have over the local wall clock. */
  maxClockSkewMs?: number
  /** Wall clock source, injectable for tests. Default `Date.now`. */
  wallClock?: WallClock
  /**
   * Monotonic clock in ms against which wall clock steps are detected (default
   * `performance.now`); `null` turns detection off for a test clock that jumps on purpose.
   */
  monotonicClock?: (() => number) | null
  /**
   * LevelDB's memory knobs (db-tuning.ts; docs/operations.md "Memory"); each one left out
   * keeps its default. A value out of range throws a TypeError.
   */
  leveldb?: Partial<LevelDbTuning>
}

export interface PageOptions {
  /** Exclusive lower bound: a message id (unread) or a seq (log, feed). */
  after?: string | number
  limit?: number
}

export interface MarkOptions {
  /**
   * Leave out every change whose status is already its message's winning status: decided
   * in the write queue against the winner there, so no read before the call is needed and
   * no change in between can be missed (the Dovecot bridge posts its events this way).
   */
  skipUnchanged?: boolean
}

/** Options for `winners()`, so a state transfer can resume from a known point. */
export interface WinnersOptions {
  /** Resume strictly after this (user, message) pair. */
  after?: { user: string, message: string }
  /** Only this user's winners (then `after`, if given, must name the same user). */
  user?: string
}

/** The store's events (see StatusStore). */
export interface StoreEvents {
  entered: [entries: LogEntry[]]
  'clock-jump': [step: ClockStep]
  'store-fault': [fault: StoreFault]
  'store-recovered': [recovered: { code: string, since: number, attempts: number }]
}

/**
 * The node's durable state. Events:
 * - `'entered' (entries: LogEntry[])` after every committed write that entered entries
 *   (local marks and remote changes), in seq order. The replicator listens to push soon.
 * - `'store-fault' (StoreFault)` when a write failed because of the disk: writes are refused
 *   (DISK_FULL, STORE_UNAVAILABLE) until `'store-recovered' ({ code, since, attempts })`.
 * - `'clock-jump' ({ fromMs, toMs, correctionMs })` when the wall clock stepped by more than
 *   CLOCK_JUMP_MS against the monotonic clock, either way (see HybridClock: a step forward is
 *   compensated in the stamping correction until the peers confirm it).
 */
export interface StatusStore extends EventEmitter<StoreEvents> {
  readonly nodeId: string
  readonly durability: Durability
  /** Highest seq entered so far (0 when empty). */
  readonly lastSeq: number
  /** Lowest seq still in the feed (lastSeq + 1 when the feed is empty). */
  readonly oldestSeq: number
  /**
   * This incarnation of the node: a random id (32 hex digits) made when the store was
   * created; a wiped data directory is a new incarnation. Empty before `open()`.
   */
  readonly incarnation: string
  /** Why writes are refused right now (disk full, I/O errors), or null (docs/storage.md "Store faults"). */
  readonly fault: StoreFault | null

  open (): Promise<void>
  close (): Promise<void>

  /**
   * Local status changes: fresh HLC timestamps, this node as origin. Resolves when durable,
   * with the entries entered (with `skipUnchanged`, not one for a change left out).
   */
  mark (changes: LocalChange[], options?: MarkOptions): Promise<LogEntry[]>
  /** Changes from a peer: one atomic batch; each entered only if it beats the current winner. */
  applyRemote (changes: Change[], options?: { from?: string }): Promise<ApplyResult>

  unread (user: string, options?: { after?: string, limit?: number }): Promise<string[]>
  unreadCount (user: string): Promise<number>
  get (user: string, message: string): Promise<MessageState | undefined>
  /**
   * The winners of these messages of one user, in their order (undefined: none); at most
   * MAX_PAGE_ENTRIES. Recent winners come from the store's cache, the rest from one LevelDB
   * read: each is the message's committed winner at the call or later (not one snapshot).
   */
  getMany (user: string, messages: readonly string[]): Promise<Array<MessageState | undefined>>
  log (user: string, options?: { after?: number, limit?: number }): Promise<LogEntry[]>
  /** Entries with seq > afterSeq, ascending, at most `limit`. */
  feed (afterSeq: number, limit: number): Promise<LogEntry[]>
  /**
   * A later entry of this feed beat the one at `seq` (same user and message), as far as
   * the store remembers (recent seqs, since it opened); false when it does not know.
   */
  isSuperseded (seq: number): boolean
  /** Every current winner, ordered by (user, message). */
  winners (options?: WinnersOptions): AsyncIterable<MessageState>
  /** The changes from peers (or an import) that lost to the winner here, kept for the retention (discards.ts). */
  discarded (user: string, message: string): Promise<DiscardRecord[]>

  /** Remove feed and log entries whose localTime < olderThan (ms). Winners stay. */
  purge (olderThan: number): Promise<PurgeResult>
  /** `purge(now - retentionMs)`. */
  purgeExpired (): Promise<PurgeResult>

  /** The per-peer replication cursor: the last local seq the peer acknowledged (0 if none). */
  getCursor (peer: string): Promise<number>
  setCursor (peer: string, seq: number): Promise<void>

  /** What this node knows of a peer's incarnation; a blank record if nothing yet. */
  getPeerRecord (peer: string): Promise<PeerRecord>
  setPeerRecord (peer: string, record: PeerRecord): Promise<void>
  /** Takes a new incarnation id (this store is an older copy of the node); resolves with it. */
  reincarnate (): Promise<string>

  /** The node's hybrid logical clock (src/hlc.ts); persisted by the store with every write. */
  readonly clock: HybridClock
}
