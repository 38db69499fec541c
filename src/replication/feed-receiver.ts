/**
 * The receiving half of one peer's feed (docs/protocol.md "Feed"): order checks at
 * arrival, applies in order, acks out, and the hold/resume this side sends while the
 * peer's clock is not trusted. A batch must continue from the last one accepted
 * (`prev`) and carry the round of our last resume, so an ack always covers a gap-free
 * range. Applies start at once (the store group-commits the batches in flight: one
 * fsync for several); acks go out strictly in order.
 */
import { isMarksyncError } from '../errors.js'
import { MAX_WINDOW } from '../limits.js'
import type { BatchFrame, HoldFrame, StateFrame } from '../protocol/index.js'
import type { PeerHold } from '../contracts.js'
import type { StatusStore } from '../store/api.js'
import type { ApplyResult, Change } from '../types.js'
import type { EmitEvent } from './api.js'
import type { FrameChannel } from './channel.js'
import type { Refusal } from './entry-policy.js'
import type { RecentChanges } from './recent-changes.js'

/** The slice of the store the receiver writes to. */
export type ReceiverStore = Pick<StatusStore, 'applyRemote'>

/** Changes this node entered lately, or is entering: arriving again, they skip the store. */
export type RecentSet = Pick<RecentChanges, 'has' | 'pendingFor' | 'track'>

export interface FeedReceiverInit {
  store: ReceiverStore
  /** The peer's node id (the `from` of what it brings). */
  peer: string
  recent: RecentSet
  emit: EmitEvent
  /** The store refused a frame as CLOCK_SKEW; `maxTs` is the frame's greatest timestamp. */
  onFuture: (maxTs: number) => void
  /** Why the entries of a frame are refused before anything is applied (entry-policy.ts); none: accepted. */
  refuse?: (entries: readonly Change[]) => Refusal | undefined
  /** This side acknowledged the peer's feed up to `seq` (a batch, or a finished state transfer). */
  onAcked?: (seq: number) => void
}

type DataFrame = BatchFrame | StateFrame

interface PendingApply {
  /** The store's apply of the changes this frame brought first. */
  applying: Promise<ApplyResult | undefined>
  /** Changes of this frame that another frame's apply, still in flight, carries. */
  carried: Change[]
  others: Set<Promise<unknown>>
}

export interface ReceiverCounts {
  batchesReceived: number
  entriesEntered: number
  entriesStale: number
  entriesDuplicate: number
}

export class FeedReceiver {
  readonly #init: FeedReceiverInit
  #channel: FrameChannel | undefined
  #holding = false
  #holdReason: string | undefined
  /** The `prev` the next batch must have (any, before the first of a session). */
  #expectPrev: number | undefined
  /** The last seq this side acknowledged in this session (batch or finished transfer). */
  #ackedSeq: number | undefined
  #expectChunk = 1
  /** Resumes this side sent in this session. */
  #roundOut = 0
  #queued = 0
  #applying: Promise<void> = Promise.resolve()
  /** Highest ts of the peer's own changes in acknowledged batches (reported as `have`). */
  #originHave = 0
  readonly #counts: ReceiverCounts = { batchesReceived: 0, entriesEntered: 0, entriesStale: 0, entriesDuplicate: 0 }

  constructor (init: FeedReceiverInit) {
    this.#init = init
  }

  get counts (): ReceiverCounts { return { ...this.#counts } }
  /**
   * The highest ts of the peer's own changes this side acknowledged: the peer sends its
   * own changes in ts order and acks cover gap-free ranges, so every earlier one is here.
   */
  get originHave (): number { return this.#originHave }
  /** This side refuses the peer's frames until it resumes. */
  get holding (): boolean { return this.#holding }

  attach (channel: FrameChannel): void {
    this.#channel = channel
    this.#holding = false
    this.#holdReason = undefined
    this.#expectPrev = undefined
    this.#ackedSeq = undefined
    this.#expectChunk = 1
    this.#roundOut = 0
  }

  detach (): void {
    this.#channel = undefined
  }

  /** Resolves once no apply is running (for a clean stop). */
  async idle (): Promise<void> {
    await this.#applying
  }

  /** Holds (refuses the peer's frames, telling it why) or resumes; no-op without a session. */
  setHold (hold: PeerHold | null): void {
    const ch = this.#channel
    if (ch === undefined || (hold === null && !this.#holding) || (hold !== null && hold.reason === this.#holdReason)) return
    this.#holding = hold !== null
    this.#holdReason = hold?.reason
    if (hold !== null) {
      const frame: HoldFrame = { type: 'hold', reason: hold.reason, offset: Math.round(hold.aheadMs) }
      if (hold.until !== null) frame.until = Math.round(hold.until)
      ch.send(frame)
    } else {
      // The sender restarts from its cursor: our last acknowledgement.
      this.#expectPrev = this.#ackedSeq
      this.#expectChunk = 1
      ch.send({ type: 'resume', round: ++this.#roundOut })
    }
  }

  /** A batch or state chunk arrived. */
  onData (frame: DataFrame, bytes: number): void {
    const ch = this.#channel
    if (ch === undefined) return
    if (this.#holding || !this.#accept(frame)) return // the sender resends the range
    const refusal = this.#init.refuse?.(frame.entries)
    if (refusal !== undefined) {
      ch.fail(refusal.code, refusal.message)
      return
    }
    if (this.#queued >= MAX_WINDOW) {
      ch.fail('WINDOW_EXCEEDED', `more than ${MAX_WINDOW} unacknowledged batches`)
      return
    }
    this.#queued++
    this.#startApply(ch, frame, bytes)
  }

  /**
   * Order checks at arrival: the frame must carry the round of our last resume (else it
   * was sent before the sender saw it) and continue the frames accepted before it.
   */
  #accept (frame: DataFrame): boolean {
    if (frame.round !== this.#roundOut) return false
    if (frame.type === 'batch') {
      // An overlap only as a resend of left-out relays (docs/protocol.md "Relays"); a gap never.
      const expect = this.#expectPrev
      if (expect !== undefined && frame.prev !== expect && !(frame.resend === true && frame.prev < expect)) return false
      this.#expectPrev = frame.seq
      return true
    }
    if (frame.chunk !== 1 && frame.chunk !== this.#expectChunk) return false
    if (frame.chunk === 1) this.#init.emit('state-transfer', { peer: this.#init.peer, direction: 'receive', phase: 'start' })
    this.#expectChunk = frame.chunk + 1
    if (frame.done) this.#expectPrev = frame.seq
    return true
  }

  #startApply (ch: FrameChannel, frame: DataFrame, bytes: number): void {
    const round = this.#roundOut
    const apply = this.#applyFresh(frame.entries)
    this.#applying = this.#applying
      .then(async () => { await this.#finish(ch, frame, bytes, round, apply) })
      .catch(err => { ch.fail(isMarksyncError(err) ? err.code : 'INTERNAL', (err as Error).message) })
      .finally(() => { this.#queued-- })
  }

  /** Starts the store's apply of the changes no other apply has or carries. */
  #applyFresh (entries: Change[]): PendingApply {
    const recent = this.#init.recent
    const fresh: Change[] = []
    const carried: Change[] = []
    const others = new Set<Promise<unknown>>()
    for (const e of entries) {
      if (recent.has(e)) {
        this.#counts.entriesDuplicate++
        continue
      }
      const other = recent.pendingFor(e)
      if (other !== undefined) {
        carried.push(e)
        others.add(other)
        continue
      }
      fresh.push(e)
    }
    this.#counts.entriesDuplicate += carried.length
    const applying = fresh.length > 0 ? this.#init.store.applyRemote(fresh, { from: this.#init.peer }) : Promise.resolve(undefined)
    applying.catch(() => {}) // settled in order, in #finish
    if (fresh.length > 0) recent.track(fresh, applying)
    return { applying, carried, others }
  }

  /** The store's answer for a frame, including the changes another frame carried. */
  async #settle (apply: PendingApply): Promise<ApplyResult | undefined> {
    const result = await apply.applying
    if (apply.others.size === 0) return result
    const settled = await Promise.allSettled(apply.others)
    if (settled.every(r => r.status === 'fulfilled')) return result
    // The frame that carried them failed: apply them here, so that our ack never
    // covers a change that is not durable.
    const again = await this.#init.store.applyRemote(apply.carried, { from: this.#init.peer })
    if (result === undefined) return again
    return { entered: [...result.entered, ...again.entered], stale: result.stale + again.stale, duplicate: result.duplicate + again.duplicate }
  }

  async #finish (ch: FrameChannel, frame: DataFrame, bytes: number, round: number, apply: PendingApply): Promise<void> {
    let result: ApplyResult | undefined
    try {
      result = await this.#settle(apply)
    } catch (err) {
      if (!isMarksyncError(err, 'CLOCK_SKEW')) throw err
      // Timestamps from the future: the link holds the peer, so nothing after this frame is acknowledged.
      this.#init.onFuture(frame.entries.reduce((m, e) => Math.max(m, e.ts), 0))
      return
    }
    this.#count(result, bytes)
    // A hold since this frame arrived: a frame before it may have failed. Not acknowledged; resent.
    if (ch !== this.#channel || this.#holding || round !== this.#roundOut) return
    if (frame.type === 'batch') {
      this.#ackedSeq = frame.seq
      for (const e of frame.entries) if (e.origin === this.#init.peer && e.ts > this.#originHave) this.#originHave = e.ts
      ch.send({ type: 'ack', seq: frame.seq })
      this.#init.onAcked?.(frame.seq)
    } else {
      if (frame.done) {
        this.#ackedSeq = frame.seq
        this.#init.onAcked?.(frame.seq)
        this.#init.emit('state-transfer', { peer: this.#init.peer, direction: 'receive', phase: 'end' })
      }
      ch.send({ type: 'state-ack', chunk: frame.chunk })
    }
  }

  #count (result: ApplyResult | undefined, bytes: number): void {
    let entered = 0; let lagMs: number | undefined
    if (result !== undefined) {
      entered = result.entered.length
      this.#counts.entriesStale += result.stale
      this.#counts.entriesDuplicate += result.duplicate
      for (const e of result.entered) {
        if (e.origin === this.#init.peer) lagMs = Math.max(lagMs ?? 0, e.localTime - e.originTime)
      }
    }
    this.#counts.batchesReceived++
    this.#counts.entriesEntered += entered
    this.#init.emit('batch-applied', { peer: this.#init.peer, entered, stale: result?.stale ?? 0, duplicate: result?.duplicate ?? 0, bytes, lagMs })
  }
}
