/**
 * The sending half of one peer's feed (docs/protocol.md "Feed"): `pump()` reads the feed
 * after `nextAfter` and sends batches while the window and the socket buffer allow. Only
 * an ack moves the cursor (persisted). A hold from the peer drops the window and rewinds
 * to the cursor; a resume sends again from there, stamped with the resume's round.
 * A cursor older than the feed's oldest entry starts a state transfer instead.
 */
import { EMPTY_BATCH_DELAY_MS, MAX_BUFFERED_BYTES } from '../limits.js'
import type { Frame } from '../protocol/index.js'
import type { StatusStore } from '../store/api.js'
import type { EmitEvent } from './api.js'
import { cutBatch, type BatchRules } from './batch-cut.js'
import type { FrameChannel } from './channel.js'
import { PeerCursor } from './peer-cursor.js'
import { RelayGate, type LeftOut, type LinkReport } from './relay-gate.js'
import { StateTransfer } from './state-transfer.js'

/** The slice of the store the sender reads. */
export type SenderStore = Pick<StatusStore, 'nodeId' | 'lastSeq' | 'oldestSeq' | 'feed' | 'isSuperseded' | 'winners' | 'getCursor' | 'setCursor'>

export interface FeedSenderInit {
  store: SenderStore
  /** The peer's node id: what it sent is not sent back to it. */
  peer: string
  batchEntries: number
  batchBytes: number
  /** Unacknowledged batches (or chunks) in flight at most. */
  window: number
  /** Nodes the peer shares a link with in the mesh: relays of their changes are left out (relay-gate.ts). */
  peerLinkedTo?: ReadonlySet<string>
  emit: EmitEvent
  /** The peer lost state (docs/protocol.md "Incarnations"): send it the whole state first, then `onResynced`. */
  resync?: () => boolean
  onResynced?: () => void
}

export class FeedSender {
  readonly #init: FeedSenderInit
  readonly #store: SenderStore
  readonly #cursor: PeerCursor
  #channel: FrameChannel | undefined
  #nextAfter = 0
  /** Highest batch seq sent in this session: an ack beyond it is a protocol error. */
  #sentMax = 0
  /** Seqs of the batches (or numbers of the chunks) sent and not acknowledged, oldest first. */
  #inflight: number[] = []
  #held = false
  /** The round of the last resume received; stamped on every frame sent. */
  #roundIn = 0
  #pumping = false
  #pumpAgain = false
  #bufferFull = false
  #transfer: StateTransfer | undefined
  #batchesSent = 0
  #stateTransfers = 0
  readonly #relay: RelayGate
  readonly #rules: BatchRules
  /** A link of the peer went down with left-out relays unconfirmed: send again after this seq. */
  #resendAfter: number | undefined
  /** The next batch starts a resend (its `prev` may be below the last ack). */
  #resending = false
  /** A batch that would carry nothing waits for an entry to carry until this fires, then goes anyway (#emptyDue). */
  #emptyTimer: NodeJS.Timeout | undefined
  #emptyDue = false

  constructor (init: FeedSenderInit) {
    this.#init = init
    this.#store = init.store
    this.#relay = new RelayGate(init.peerLinkedTo ?? new Set())
    const { store, peer, batchBytes } = init
    this.#rules = { peer, nodeId: store.nodeId, batchBytes, isSuperseded: seq => store.isSuperseded(seq), relay: this.#relay }
    this.#cursor = new PeerCursor(init.store, init.peer, () => this.#relay.lowestPending())
  }

  get cursor (): number { return this.#cursor.value }
  /** The peer sent a hold: nothing is sent until its resume. */
  get held (): boolean { return this.#held }
  get lastAckAt (): number | null { return this.#cursor.lastAckAt }
  get counts (): { batchesSent: number, stateTransfers: number } { return { batchesSent: this.#batchesSent, stateTransfers: this.#stateTransfers } }

  async load (): Promise<void> {
    await this.#cursor.load()
  }

  /** A new session: the window starts empty at the cursor. Call `pump()` to send. */
  attach (channel: FrameChannel): void {
    this.#channel = channel
    this.#nextAfter = this.#cursor.value
    this.#sentMax = this.#cursor.value
    this.#inflight = []
    this.#held = false
    this.#roundIn = 0
    this.#relay.newSession()
    this.#resendAfter = undefined
    this.#resending = false
    this.#abortTransfer()
  }

  detach (): void {
    this.#channel = undefined
    this.#abortTransfer()
    this.#stopEmptyWait()
  }

  /** Resolves once no cursor write runs (for a clean stop). */
  async idle (): Promise<void> {
    this.#abortTransfer()
    this.#stopEmptyWait()
    await this.#cursor.idle()
  }

  /** The peer lost state: its cursor counts for nothing (call before attach). */
  restart (): void { this.#cursor.reset() }

  onHold (): void {
    this.#held = true
    this.#rewind()
  }

  onResume (round: number): void {
    this.#held = false
    this.#roundIn = round
    this.#rewind()
    this.pump()
  }

  onAck (seq: number): void {
    const ch = this.#channel
    const i = this.#inflight.indexOf(seq)
    // Late, from before a rewind (a resend's acks are in flight, and may be below the cursor).
    if (ch === undefined || (seq <= this.#cursor.value && i < 0)) return
    if (seq > this.#sentMax || this.#transfer !== undefined) {
      ch.fail('UNEXPECTED_FRAME', `ack of ${seq}, which was not sent`)
      return
    }
    // A resent batch's ack leaves the cursor, but persists it again: what it held back is confirmed.
    this.#cursor.advance(Math.max(seq, this.#cursor.value))
    if (i >= 0) {
      this.#inflight.splice(0, i + 1)
    } else {
      // A batch sent before a hold, applied after the resume. The receiver acks only
      // gap-free ranges, so the ack stands, but the window no longer matches: rewind.
      this.#rewind()
    }
    this.pump()
  }

  onStateAck (chunk: number): void {
    const t = this.#transfer
    if (t === undefined || this.#inflight[0] !== chunk) {
      this.#channel?.fail('UNEXPECTED_FRAME', `state-ack of chunk ${chunk}, which was not expected`)
      return
    }
    this.#inflight.shift()
    if (t.done && this.#inflight.length === 0) {
      this.#transfer = undefined
      this.#nextAfter = t.seq
      this.#sentMax = Math.max(this.#sentMax, t.seq)
      this.#cursor.advance(t.seq)
      this.#init.onResynced?.()
      this.#init.emit('state-transfer', { peer: this.#init.peer, direction: 'send', phase: 'end', entries: t.chunk })
    }
    this.pump()
  }

  /** The peer's `links` report: confirmed relays are forgotten, those of a link down sent again. */
  onLinks (peers: ReadonlyArray<readonly [string, boolean, number]>): void {
    const reports = new Map<string, LinkReport>()
    for (const [id, up, have] of peers) reports.set(id, { up, have })
    const resendAfter = this.#relay.report(reports)
    if (resendAfter === undefined) return
    this.#resendAfter = Math.min(this.#resendAfter ?? Infinity, resendAfter)
    this.pump()
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

  #rewind (): void {
    this.#inflight = []
    this.#nextAfter = this.#cursor.value
    this.#abortTransfer()
  }

  #abortTransfer (): void {
    const t = this.#transfer
    if (t === undefined) return
    this.#transfer = undefined
    t.abort()
  }

  async #pumpLoop (): Promise<void> {
    const ch = this.#channel
    try {
      do {
        this.#pumpAgain = false
        await this.#fill()
      } while (this.#pumpAgain)
    } catch (err) {
      if (ch !== undefined && ch === this.#channel) ch.fail('INTERNAL', (err as Error).message)
    } finally {
      this.#pumping = false
    }
  }

  #canSend (ch: FrameChannel | undefined): ch is FrameChannel {
    return ch !== undefined && ch === this.#channel && ch.established && !this.#held &&
      this.#inflight.length < this.#init.window
  }

  async #fill (): Promise<void> {
    for (;;) {
      const ch = this.#channel
      if (!this.#canSend(ch)) return
      if (ch.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.#bufferFull = true // woken by the write callback of a send
        return
      }
      if (this.#resendAfter !== undefined) {
        if (this.#inflight.length > 0) return // once what is in flight is acknowledged
        this.#resending = this.#resendAfter < this.#nextAfter
        this.#nextAfter = Math.min(this.#nextAfter, this.#resendAfter)
        this.#resendAfter = undefined
      }
      if (this.#transfer === undefined && (this.#nextAfter < this.#store.oldestSeq - 1 || this.#init.resync?.() === true)) {
        if (this.#inflight.length > 0) return // finish the feed batches in flight first
        this.#startTransfer()
      }
      const sent = this.#transfer !== undefined ? await this.#sendChunk(ch, this.#transfer) : await this.#sendBatch(ch)
      if (!sent) return
    }
  }

  #send (ch: FrameChannel, frame: Frame): void {
    const wake = (): void => {
      if (this.#bufferFull && ch === this.#channel && ch.bufferedAmount <= MAX_BUFFERED_BYTES) {
        this.#bufferFull = false
        this.pump()
      }
    }
    ch.send(frame, wake)
  }

  async #sendBatch (ch: FrameChannel): Promise<boolean> {
    const after = this.#nextAfter
    const entries = await this.#store.feed(after, this.#init.batchEntries)
    if (!this.#canSend(ch) || this.#nextAfter !== after || this.#transfer !== undefined || entries.length === 0) return false
    const leftOut = new Map<string, LeftOut>()
    const { out, last } = cutBatch(entries, after, this.#rules, leftOut)
    if (out.length === 0 && last >= this.#store.lastSeq && !this.#resending && !this.#emptyDue) {
      // Nothing for the peer up to the feed's end (its own changes, relays it gets directly): its cursor
      // moves a little later, not by a frame and an ack per group entered. The range is cut again then.
      this.#emptyTimer ??= setTimeout(() => { // cleared with #emptyDue once a batch goes
        this.#emptyDue = true
        this.pump()
      }, EMPTY_BATCH_DELAY_MS)
      return false
    }
    this.#stopEmptyWait()
    this.#relay.sent(leftOut)
    this.#send(ch, { type: 'batch', prev: after, seq: last, round: this.#roundIn, entries: out, ...(this.#resending ? { resend: true } : {}) })
    this.#resending = false
    this.#inflight.push(last)
    this.#nextAfter = last
    this.#sentMax = Math.max(this.#sentMax, last)
    this.#batchesSent++
    return true
  }

  #stopEmptyWait (): void {
    clearTimeout(this.#emptyTimer)
    this.#emptyTimer = undefined
    this.#emptyDue = false
  }

  #startTransfer (): void {
    const seq = this.#store.lastSeq // noted before the snapshot the iterator reads
    this.#transfer = new StateTransfer(seq, this.#store.winners())
    this.#stateTransfers++
    this.#init.emit('state-transfer', { peer: this.#init.peer, direction: 'send', phase: 'start' })
  }

  async #sendChunk (ch: FrameChannel, t: StateTransfer): Promise<boolean> {
    if (t.done) return false
    const out = await t.nextChunk(this.#init.batchEntries, this.#init.batchBytes)
    if (out === undefined || !this.#canSend(ch) || t !== this.#transfer) return false
    const chunk = t.sent()
    this.#send(ch, { type: 'state', chunk, round: this.#roundIn, seq: t.seq, entries: out, done: t.done })
    this.#inflight.push(chunk)
    this.#batchesSent++
    return true
  }
}
