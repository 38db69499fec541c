/**
 * Everything this node does with one configured peer, across sessions: the sending
 * side (cursor, window of unacknowledged batches, state transfer), the receiving side
 * (ordered atomic applies, acks, holding a skewed peer) and the counters of PeerStatus.
 *
 * Sending: `pump()` reads the feed after `nextAfter` and sends batches while the window
 * and the socket buffer allow. Only an ack moves `cursor` (persisted). A hold from the
 * peer drops the window and rewinds to the cursor; a resume sends again from there.
 * Receiving: batches are applied one at a time, in order; a batch must continue from
 * the last one acknowledged (`prev`), so an ack always covers a gap-free range.
 */
import { isMarksyncError } from '../errors.js'
import { physicalMs } from '../hlc.js'
import { MAX_BUFFERED_BYTES, MAX_WINDOW } from '../limits.js'
import type { StatusStore } from '../store/api.js'
import type { ApplyResult, Change, MessageState } from '../types.js'
import { entryWireBytes, type BatchFrame, type Frame, type StateFrame } from '../protocol/index.js'
import type { PeerConfig, PeerStatus } from './api.js'
import type { ClockSample } from './clock-sample.js'
import { RecentChanges } from './recent-changes.js'
import type { Session } from './session.js'

/** Shortest hold after the store refused a batch as CLOCK_SKEW, in ms. */
const MIN_FUTURE_HOLD_MS = 1_000

interface PendingApply {
  /** The store's apply of the changes this frame brought first. */
  applying: Promise<ApplyResult | undefined>
  /** Changes of this frame that another frame's apply, still in flight, carries. */
  carried: Change[]
  others: Set<Promise<unknown>>
}

export interface PeerLinkInit {
  store: StatusStore
  peer: PeerConfig
  batchEntries: number
  batchBytes: number
  window: number
  maxClockSkewMs: number
  /** Changes this node entered lately; arriving again, they are dropped before the store. */
  recent: RecentChanges
  emit: (event: string, payload: object) => void
}

interface Transfer {
  /** The sender's lastSeq when the transfer began; the cursor once it is acknowledged. */
  seq: number
  iter: AsyncIterator<MessageState>
  /** A winner read but not sent yet (it did not fit the previous chunk). */
  pending: MessageState | undefined
  chunk: number
  done: boolean
}

export class PeerLink {
  readonly id: string
  readonly url: string
  session: Session | undefined
  /** A dial of ours is in progress. */
  dialing = false
  redialTimer: NodeJS.Timeout | undefined
  offsetMs: number | null = null

  readonly #init: PeerLinkInit
  readonly #store: StatusStore
  #since: number | null = null
  #cursor = 0
  #lastAckAt: number | null = null
  #skewed = false
  #lastError: PeerStatus['lastError'] = null
  readonly #counts = {
    batchesSent: 0, batchesReceived: 0, entriesEntered: 0, entriesStale: 0, entriesDuplicate: 0, bytesSent: 0, bytesReceived: 0, stateTransfers: 0
  }

  // sending
  #nextAfter = 0
  /** Highest batch seq sent in this session: an ack beyond it is a protocol error. */
  #sentMax = 0
  #inflight: number[] = []
  #held = false
  #pumping = false
  #pumpAgain = false
  #bufferFull = false
  #transfer: Transfer | undefined
  #cursorWriting: Promise<void> | undefined
  #cursorDirty = false

  // receiving
  #holding = false
  #futureUntil = 0
  /** The `prev` the next batch must have (any, before the first of a session). */
  #expectPrev: number | undefined
  /** The last seq this side acknowledged in this session (batch or finished transfer). */
  #ackedSeq: number | undefined
  #expectChunk = 1
  /** Resumes this side sent in this session. */
  #roundOut = 0
  /** The round of the last resume received. */
  #roundIn = 0
  #queued = 0
  #applying: Promise<void> = Promise.resolve()

  constructor (init: PeerLinkInit) {
    this.#init = init
    this.#store = init.store
    this.id = init.peer.id
    this.url = init.peer.url
  }

  async load (): Promise<void> {
    this.#cursor = await this.#store.getCursor(this.id)
  }

  attach (session: Session, sample: ClockSample): void {
    this.session = session
    this.#since = Date.now()
    this.#nextAfter = this.#cursor
    this.#sentMax = this.#cursor
    this.#inflight = []
    this.#held = false
    this.#holding = false
    this.#expectPrev = undefined
    this.#ackedSeq = undefined
    this.#expectChunk = 1
    this.#roundOut = 0
    this.#roundIn = 0
    this.#abortTransfer()
    this.onSample(sample)
    this.pump()
  }

  detach (session: Session): void {
    if (this.session !== session) return
    this.#counts.bytesSent += session.bytesSent
    this.#counts.bytesReceived += session.bytesReceived
    this.session = undefined
    this.#since = Date.now()
    this.#abortTransfer()
  }

  /** Resolves once no apply or cursor write of this link is running (for a clean stop). */
  async idle (): Promise<void> {
    this.#abortTransfer()
    await this.#applying
    while (this.#cursorWriting !== undefined) await this.#cursorWriting
  }

  status (): PeerStatus {
    const s = this.session
    return {
      id: this.id,
      url: this.url,
      connected: s !== undefined,
      since: this.#since,
      cursor: this.#cursor,
      behind: Math.max(0, this.#store.lastSeq - this.#cursor),
      lastAckAt: this.#lastAckAt,
      clockOffsetMs: this.offsetMs,
      skewed: this.#skewed,
      held: this.#held,
      holding: this.#holding,
      lastError: this.#lastError,
      ...this.#counts,
      bytesSent: this.#counts.bytesSent + (s?.bytesSent ?? 0),
      bytesReceived: this.#counts.bytesReceived + (s?.bytesReceived ?? 0)
    }
  }

  /** A session with this peer ended abnormally or could not be made: kept for the status. */
  noteError (code: string, reason: string): void {
    this.#lastError = { code, reason, at: Date.now() }
  }

  // ---- clock skew --------------------------------------------------------------------

  /** This node's wall clock stepped by `stepMs`: the peer's offset to it moves the other way. */
  shiftOffset (stepMs: number): void {
    if (this.offsetMs === null) return
    this.offsetMs -= stepMs
    this.evaluateClock()
  }

  onSample (sample: ClockSample): void {
    this.offsetMs = sample.offsetMs
    this.evaluateClock()
  }

  /**
   * Skewed: |offset| beyond the limit, or the store refused its timestamps (CLOCK_SKEW)
   * less than their lead ago. Held (its batches refused): only a peer *ahead* of us,
   * since only timestamps from the future can drag clocks forward.
   */
  evaluateClock (): void {
    const max = this.#init.maxClockSkewMs
    const offset = this.offsetMs ?? 0
    const future = this.#store.clock.wallTime() < this.#futureUntil
    const skewed = Math.abs(offset) > max || future
    if (skewed !== this.#skewed) {
      this.#skewed = skewed
      this.#init.emit(skewed ? 'peer-skewed' : 'peer-clock-ok', { peer: this.id, offsetMs: offset })
    }
    const hold = offset > max || future
    if (hold === this.#holding || this.session === undefined) return
    this.#holding = hold
    if (hold) this.session.send({ type: 'hold', reason: 'CLOCK_SKEW', offset })
    else {
      // The sender restarts from its cursor: our last acknowledgement.
      this.#expectPrev = this.#ackedSeq
      this.#expectChunk = 1
      this.session.send({ type: 'resume', round: ++this.#roundOut })
    }
  }

  // ---- receiving ---------------------------------------------------------------------

  onFrame (frame: Frame, bytes: number): void {
    const s = this.session
    if (s === undefined) return
    switch (frame.type) {
      case 'batch':
      case 'state':
        if (this.#holding || !this.#accept(frame)) return // the sender resends the range
        if (this.#queued >= MAX_WINDOW) {
          s.fail('WINDOW_EXCEEDED', `more than ${MAX_WINDOW} unacknowledged batches`)
          return
        }
        this.#queued++
        this.#startApply(s, frame, bytes)
        return
      case 'ack': return this.#onAck(s, frame.seq)
      case 'state-ack': return this.#onStateAck(s, frame.chunk)
      case 'hold':
        this.#held = true
        this.#rewind()
        return
      case 'resume':
        this.#held = false
        this.#roundIn = frame.round
        this.#rewind()
        this.pump()
        return
      default:
        s.fail('UNEXPECTED_FRAME', `${frame.type} is not expected here`)
    }
  }

  /**
   * Order checks at arrival: the frame must carry the round of our last resume (else it
   * was sent before the sender saw it) and continue the frames accepted before it.
   */
  #accept (frame: BatchFrame | StateFrame): boolean {
    if (frame.round !== this.#roundOut) return false
    if (frame.type === 'batch') {
      if (this.#expectPrev !== undefined && frame.prev !== this.#expectPrev) return false
      this.#expectPrev = frame.seq
      return true
    }
    if (frame.chunk !== 1 && frame.chunk !== this.#expectChunk) return false
    if (frame.chunk === 1) this.#init.emit('state-transfer', { peer: this.id, direction: 'receive', phase: 'start' })
    this.#expectChunk = frame.chunk + 1
    if (frame.done) this.#expectPrev = frame.seq
    return true
  }

  /**
   * Applies start at once, so the store group-commits the batches in flight (one fsync
   * for several); acks go out strictly in order, each only once every frame before it
   * in this round was applied.
   */
  #startApply (s: Session, frame: BatchFrame | StateFrame, bytes: number): void {
    const round = this.#roundOut
    const recent = this.#init.recent
    const fresh: Change[] = []
    const freshKeys: string[] = []
    const carried: Change[] = []
    const others = new Set<Promise<unknown>>()
    for (const e of frame.entries) {
      const key = RecentChanges.key(e)
      if (recent.hasKey(key)) {
        this.#counts.entriesDuplicate++
        continue
      }
      const other = recent.pendingFor(key)
      if (other !== undefined) {
        carried.push(e)
        others.add(other)
        continue
      }
      fresh.push(e)
      freshKeys.push(key)
    }
    this.#counts.entriesDuplicate += carried.length
    const applying = fresh.length > 0 ? this.#store.applyRemote(fresh, { from: this.id }) : Promise.resolve(undefined)
    applying.catch(() => {}) // settled in order below
    if (fresh.length > 0) recent.track(freshKeys, applying)
    const apply: PendingApply = { applying, carried, others }
    this.#applying = this.#applying
      .then(async () => { await this.#finish(s, frame, bytes, round, apply) })
      .catch(err => { s.fail(isMarksyncError(err) ? err.code : 'INTERNAL', (err as Error).message) })
      .finally(() => { this.#queued-- })
  }

  /** The store's answer for a frame, including the changes another frame carried. */
  async #settle (apply: PendingApply): Promise<ApplyResult | undefined> {
    const result = await apply.applying
    if (apply.others.size === 0) return result
    const settled = await Promise.allSettled(apply.others)
    if (settled.every(r => r.status === 'fulfilled')) return result
    // The frame that carried them failed: apply them here, so that our ack never
    // covers a change that is not durable.
    const again = await this.#store.applyRemote(apply.carried, { from: this.id })
    if (result === undefined) return again
    return { entered: [...result.entered, ...again.entered], stale: result.stale + again.stale, duplicate: result.duplicate + again.duplicate }
  }

  async #finish (s: Session, frame: BatchFrame | StateFrame, bytes: number, round: number, apply: PendingApply): Promise<void> {
    let result: ApplyResult | undefined
    try {
      result = await this.#settle(apply)
    } catch (err) {
      if (!isMarksyncError(err, 'CLOCK_SKEW')) throw err
      // Timestamps from the future: refuse until our clock reaches them (minus the
      // tolerance), and at least briefly, so nothing after this frame is acknowledged.
      const maxTs = frame.entries.reduce((m, e) => Math.max(m, e.ts), 0)
      this.#futureUntil = Math.max(physicalMs(maxTs) - this.#init.maxClockSkewMs, this.#store.clock.wallTime() + MIN_FUTURE_HOLD_MS)
      this.evaluateClock()
      return
    }
    let entered = 0; let lagMs: number | undefined
    if (result !== undefined) {
      entered = result.entered.length
      this.#counts.entriesStale += result.stale
      this.#counts.entriesDuplicate += result.duplicate
      for (const e of result.entered) {
        if (e.origin === this.id) lagMs = Math.max(lagMs ?? 0, e.localTime - e.originTime)
      }
    }
    this.#counts.batchesReceived++
    this.#counts.entriesEntered += entered
    this.#init.emit('batch-applied', { peer: this.id, entered, stale: result?.stale ?? 0, duplicate: result?.duplicate ?? 0, bytes, lagMs })
    // A hold since this frame arrived: a frame before it may have failed. Not acknowledged; resent.
    if (s !== this.session || this.#holding || round !== this.#roundOut) return
    if (frame.type === 'batch') {
      this.#ackedSeq = frame.seq
      s.send({ type: 'ack', seq: frame.seq })
    } else {
      if (frame.done) {
        this.#ackedSeq = frame.seq
        this.#init.emit('state-transfer', { peer: this.id, direction: 'receive', phase: 'end' })
      }
      s.send({ type: 'state-ack', chunk: frame.chunk })
    }
  }

  // ---- sending -----------------------------------------------------------------------

  #rewind (): void {
    this.#inflight = []
    this.#nextAfter = this.#cursor
    this.#abortTransfer()
  }

  #onAck (s: Session, seq: number): void {
    if (seq <= this.#cursor) return // late, from before a rewind
    if (seq > this.#sentMax || this.#transfer !== undefined) {
      s.fail('UNEXPECTED_FRAME', `ack of ${seq}, which was not sent`)
      return
    }
    const i = this.#inflight.indexOf(seq)
    this.#advance(seq)
    if (i >= 0) {
      this.#inflight.splice(0, i + 1)
    } else {
      // A batch sent before a hold, applied after the resume. The receiver acks only
      // gap-free ranges, so the ack stands, but the window no longer matches: rewind.
      this.#rewind()
    }
    this.pump()
  }

  #onStateAck (s: Session, chunk: number): void {
    const t = this.#transfer
    if (t === undefined || this.#inflight[0] !== chunk) {
      s.fail('UNEXPECTED_FRAME', `state-ack of chunk ${chunk}, which was not expected`)
      return
    }
    this.#inflight.shift()
    if (t.done && this.#inflight.length === 0) {
      this.#transfer = undefined
      this.#nextAfter = t.seq
      this.#sentMax = Math.max(this.#sentMax, t.seq)
      this.#advance(t.seq)
      this.#init.emit('state-transfer', { peer: this.id, direction: 'send', phase: 'end', entries: t.chunk })
    }
    this.pump()
  }

  #advance (seq: number): void {
    this.#cursor = seq
    this.#lastAckAt = Date.now()
    this.#cursorDirty = true
    if (this.#cursorWriting === undefined) this.#cursorWriting = this.#writeCursor()
  }

  /** Persists the latest cursor; writes are serialized so an older one never lands last. */
  async #writeCursor (): Promise<void> {
    try {
      while (this.#cursorDirty) {
        this.#cursorDirty = false
        await this.#store.setCursor(this.id, this.#cursor)
      }
    } catch {
      // The store is closing; the peer gets these entries again next time (at-least-once).
    } finally {
      this.#cursorWriting = undefined
    }
  }

  #abortTransfer (): void {
    const t = this.#transfer
    if (t === undefined) return
    this.#transfer = undefined
    t.iter.return?.().catch(() => {})
  }

  /** Sends what the window and the socket allow; safe to call any time. */
  pump (): void {
    if (this.#pumping) {
      this.#pumpAgain = true
      return
    }
    this.#pumping = true
    void this.#pumpLoop()
  }

  async #pumpLoop (): Promise<void> {
    const s = this.session
    try {
      do {
        this.#pumpAgain = false
        await this.#fill()
      } while (this.#pumpAgain)
    } catch (err) {
      if (s !== undefined && s === this.session) s.fail('INTERNAL', (err as Error).message)
    } finally {
      this.#pumping = false
    }
  }

  #canSend (s: Session | undefined): s is Session {
    return s !== undefined && s === this.session && s.established && !this.#held &&
      this.#inflight.length < this.#init.window
  }

  async #fill (): Promise<void> {
    for (;;) {
      const s = this.session
      if (!this.#canSend(s)) return
      if (s.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.#bufferFull = true // woken by the write callback of a send
        return
      }
      if (this.#transfer === undefined && this.#nextAfter < this.#store.oldestSeq - 1) {
        if (this.#inflight.length > 0) return // finish the feed batches in flight first
        this.#startTransfer()
      }
      const sent = this.#transfer !== undefined ? await this.#sendChunk(s) : await this.#sendBatch(s)
      if (!sent) return
    }
  }

  #send (s: Session, frame: Frame): void {
    const wake = (): void => {
      if (this.#bufferFull && s === this.session && s.bufferedAmount <= MAX_BUFFERED_BYTES) {
        this.#bufferFull = false
        this.pump()
      }
    }
    s.send(frame, wake)
  }

  async #sendBatch (s: Session): Promise<boolean> {
    const after = this.#nextAfter
    const entries = await this.#store.feed(after, this.#init.batchEntries)
    if (!this.#canSend(s) || this.#nextAfter !== after || this.#transfer !== undefined || entries.length === 0) return false
    const out = []
    let bytes = 0
    let last = after
    for (const e of entries) {
      // The peer has these already: it sent them, or made them. A superseded entry is beaten
      // by a later one that the peer gets too (or sent or made), so it need not travel.
      if (e.from !== this.id && e.origin !== this.id && !this.#store.isSuperseded(e.seq)) {
        const b = entryWireBytes(e)
        if (out.length > 0 && bytes + b > this.#init.batchBytes) break
        bytes += b
        out.push(e)
      }
      last = e.seq
    }
    this.#send(s, { type: 'batch', prev: after, seq: last, round: this.#roundIn, entries: out })
    this.#inflight.push(last)
    this.#nextAfter = last
    this.#sentMax = Math.max(this.#sentMax, last)
    this.#counts.batchesSent++
    return true
  }

  #startTransfer (): void {
    const seq = this.#store.lastSeq // noted before the snapshot the iterator reads
    const iter = this.#store.winners()[Symbol.asyncIterator]()
    this.#transfer = { seq, iter, pending: undefined, chunk: 0, done: false }
    this.#counts.stateTransfers++
    this.#init.emit('state-transfer', { peer: this.id, direction: 'send', phase: 'start' })
  }

  async #sendChunk (s: Session): Promise<boolean> {
    const t = this.#transfer as Transfer
    if (t.done) return false
    const out: MessageState[] = []
    let bytes = 0
    while (out.length < this.#init.batchEntries) {
      let next = t.pending
      t.pending = undefined
      if (next === undefined) {
        const r = await t.iter.next()
        if (t !== this.#transfer) return false // aborted meanwhile
        if (r.done === true) {
          t.done = true
          break
        }
        next = r.value
      }
      const b = entryWireBytes(next)
      if (out.length > 0 && bytes + b > this.#init.batchBytes) {
        t.pending = next
        break
      }
      bytes += b
      out.push(next)
    }
    if (!this.#canSend(s) || t !== this.#transfer) return false
    t.chunk++
    this.#send(s, { type: 'state', chunk: t.chunk, round: this.#roundIn, seq: t.seq, entries: out, done: t.done })
    this.#inflight.push(t.chunk)
    this.#counts.batchesSent++
    return true
  }
}
