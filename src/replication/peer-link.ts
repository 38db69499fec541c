/**
 * Everything this node does with one configured peer, across sessions: dialing it (with
 * capped backoff), attaching the session that won and routing its frames, judging the
 * peer's clock (holding it while skewed ahead), and the counters of PeerStatus. The feed
 * itself is two halves: FeedSender (our entries out, acks in) and FeedReceiver (the
 * peer's entries applied, acks out); each sees the session only as a FrameChannel.
 */
import type { PeerStatus } from '../contracts.js'
import type { Frame, IncarnationClaim } from '../protocol/index.js'
import { DIGEST_ANSWERS, DIGEST_REQUESTS, type DigestFrame } from '../protocol/digest-frames.js'
import { Backoff } from './backoff.js'
import type { ClockSample } from './clock-sample.js'
import { FeedReceiver, type FeedReceiverInit } from './feed-receiver.js'
import { FeedSender } from './feed-sender.js'
import { isOrdinaryClose } from './session-faults.js'
import { refusalOf } from './entry-policy.js'
import { HoldJudge } from './peer-hold.js'
import { PeerIncarnation } from './peer-incarnation.js'
import type { LinkSession, PeerLinkInit } from './peer-link-init.js'

export type { LinkSession, LinkStore, PeerLinkInit } from './peer-link-init.js'


export class PeerLink {
  readonly id: string
  readonly url: string
  readonly #init: PeerLinkInit
  readonly #sender: FeedSender
  readonly #receiver: FeedReceiver
  readonly #backoff: Backoff
  #session: LinkSession | undefined
  /** A dial of ours is in progress. */
  #dialing = false
  #redialTimer: NodeJS.Timeout | undefined
  #stopped = false
  #offsetMs: number | null = null
  /** This node's clock stepped: the next sample may come from a ping sent before the step (half of it in each timeline). */
  #discardNextSample = false
  #since: number | null = null
  #skewed = false
  #lastError: PeerStatus['lastError'] = null
  readonly #holds: HoldJudge
  readonly #incarnation: PeerIncarnation
  /** Bytes of the sessions before the current one. */
  #bytesSent = 0
  #bytesReceived = 0

  constructor (init: PeerLinkInit) {
    this.#init = init
    this.id = init.peer.id
    this.url = init.peer.url
    this.#backoff = init.backoff ?? new Backoff()
    const { store, batchEntries, batchBytes, window, emit, recent, peerLinkedTo } = init
    this.#holds = new HoldJudge(init.maxClockSkewMs)
    const known = this.#incarnation = new PeerIncarnation(store, this.id)
    this.#sender = new FeedSender({ store, peer: this.id, batchEntries, batchBytes, window, peerLinkedTo, emit, resync: () => known.resync, onResynced: () => known.resynced() })
    const refuse: FeedReceiverInit['refuse'] = entries => refusalOf(entries, init.members, store.clock.wallTime())
    this.#receiver = new FeedReceiver({ store, peer: this.id, recent, emit, onFuture: ts => this.#onFuture(ts), refuse, onAcked: seq => known.acked(seq) })
  }

  /** The incarnation fields this node sends the peer in the handshake. */
  claim (): IncarnationClaim {
    return { incarnation: this.#init.store.incarnation, seq: this.#init.store.lastSeq, ...this.#incarnation.known() }
  }

  /** The attached session, if any. */
  get session (): LinkSession | undefined { return this.#session }
  /** Estimated peer clock minus ours, in ms; null until measured. */
  get offsetMs (): number | null { return this.#offsetMs }

  async load (): Promise<void> {
    await this.#sender.load()
    await this.#incarnation.load()
  }

  /** This node's link to the peer, as `links` frames report it to other peers. */
  linkState (): [string, boolean, number] { return [this.id, this.#session?.established === true, this.#receiver.originHave] }

  /** Dials the peer (and redials whenever no session is attached) until stop(). */
  start (): void { this.#dial() }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#redialTimer)
  }

  /** Resolves once no apply or cursor write of this link is running (for a clean stop). */
  async idle (): Promise<void> {
    await this.#sender.idle()
    await this.#receiver.idle()
    await this.#incarnation.idle()
  }

  attach (session: LinkSession, sample: ClockSample): void {
    clearTimeout(this.#redialTimer)
    this.#redialTimer = undefined
    this.#session = session
    this.#since = Date.now()
    this.#judgeClaim(session.peerClaim ?? {})
    this.#holds.reset()
    this.#sender.attach(session)
    this.#receiver.attach(session)
    session.deliverTo((frame, bytes) => { this.#onFrame(session, frame, bytes) })
    this.#init.digests?.attach(session, session.version ?? 1)
    // The handshake's sample belongs to this session: a step before it does not void it.
    this.#discardNextSample = false
    this.onSample(sample)
    this.#sender.pump()
  }

  detach (session: LinkSession): void {
    if (this.#session !== session) return
    this.#bytesSent += session.bytesSent
    this.#bytesReceived += session.bytesReceived
    this.#session = undefined
    this.#since = Date.now()
    this.#sender.detach()
    this.#receiver.detach()
    this.#init.digests?.detach()
  }

  /** A session with this peer closed (attached or not): detach it, and redial after a backoff. */
  onSessionClosed (session: LinkSession): void {
    if (session.role === 'dialer') this.#dialing = false
    const code = session.closeCode ?? 'UNKNOWN'
    if (!isOrdinaryClose(code)) this.#noteError(code, session.closeReason)
    if (this.#session === session) {
      this.detach(session)
      this.#init.emit('peer-disconnected', { peer: this.id, code, reason: session.closeReason })
    }
  }

  /** After onSessionClosed (and the replicator's fault accounting): schedules the redial. */
  redialAfter (session: LinkSession): void {
    if (this.#stopped) return
    // A session that lived through a few heartbeats was healthy: start over from the shortest delay.
    if (session.establishedAt !== undefined && Date.now() - session.establishedAt > this.#init.healthyAfterMs) this.#backoff.reset()
    this.#redial(this.#backoff.next())
  }

  /** Sends what the window allows (fresh entries were entered). */
  pump (): void { this.#sender.pump() }

  status (): PeerStatus {
    const s = this.#session
    const sent = this.#sender.counts
    const received = this.#receiver.counts
    return {
      id: this.id,
      url: this.url,
      connected: s !== undefined,
      since: this.#since,
      cursor: this.#sender.cursor,
      behind: Math.max(0, this.#init.store.lastSeq - this.#sender.cursor),
      lastAckAt: this.#sender.lastAckAt,
      clockOffsetMs: this.#offsetMs,
      skewed: this.#skewed,
      held: this.#sender.held,
      holding: this.#receiver.holding,
      hold: this.#holds.hold,
      lastError: this.#lastError,
      // The order of the API's JSON (docs/operations.md "GET /v1/status").
      batchesSent: sent.batchesSent,
      batchesReceived: received.batchesReceived,
      entriesEntered: received.entriesEntered,
      entriesStale: received.entriesStale,
      entriesDuplicate: received.entriesDuplicate,
      bytesSent: this.#bytesSent + (s?.bytesSent ?? 0),
      bytesReceived: this.#bytesReceived + (s?.bytesReceived ?? 0),
      stateTransfers: sent.stateTransfers
    }
  }

  /** A session with this peer ended abnormally or could not be made: kept for the status. */
  #noteError (code: string, reason: string): void { this.#lastError = { code, reason, at: Date.now() } }

  // ---- clock skew --------------------------------------------------------------------

  /** This node's wall clock stepped by `stepMs`: the peer's offset to it moves the other way. */
  shiftOffset (stepMs: number): void {
    this.#discardNextSample = true
    if (this.#offsetMs === null) return
    this.#offsetMs -= stepMs
    this.evaluateClock()
  }

  onSample (sample: ClockSample): void {
    if (this.#discardNextSample) {
      this.#discardNextSample = false
      return
    }
    this.#offsetMs = sample.offsetMs
    this.evaluateClock()
  }

  /** Skewed: |offset| beyond the limit. Held (batches refused): its clock or its stamps are ahead (peer-hold.ts). */
  evaluateClock (): void {
    const offset = this.#offsetMs ?? 0
    // Against our corrected clock: when the peers agree our clock is off, the agreeing peers are not skewed.
    const skewed = Math.abs(offset - this.#init.store.clock.correctionMs) > this.#init.maxClockSkewMs
    if (skewed !== this.#skewed) {
      this.#skewed = skewed
      this.#init.emit(skewed ? 'peer-skewed' : 'peer-clock-ok', { peer: this.id, offsetMs: offset })
    }
    const { hold, changed } = this.#holds.evaluate(offset, this.#init.store.clock.wallTime())
    if (!changed) return
    this.#receiver.setHold(hold)
    if (hold !== null) this.#init.emit('peer-held', { peer: this.id, ...hold })
  }

  /** Timestamps from the future: hold until our clock reaches them (minus the tolerance), and at least briefly. */
  #onFuture (maxTs: number): void {
    this.#holds.future(maxTs, this.#init.store.clock.wallTime())
    this.evaluateClock()
  }

  /** The peer's incarnation fields (docs/protocol.md "Incarnations"): trust its cursors, or start over. */
  #judgeClaim (claim: IncarnationClaim): void {
    const { store, emit } = this.#init
    if (claim.peerIncarnation === store.incarnation && (claim.peerSeq ?? 0) > store.lastSeq) {
      emit('restored-copy', { peer: this.id, peerSeq: claim.peerSeq, lastSeq: store.lastSeq })
      this.#init.onRestoredCopy?.()
    }
    const verdict = this.#incarnation.judge(claim)
    if (verdict !== 'trusted') this.#sender.restart()
    if (verdict !== 'trusted') emit('peer-reborn', { peer: this.id, verdict, incarnation: claim.incarnation, seq: claim.seq })
  }

  // ---- frames and dialing ------------------------------------------------------------

  #onFrame (session: LinkSession, frame: Frame, bytes: number): void {
    if (session !== this.#session) return
    switch (frame.type) {
      case 'batch':
      case 'state': return this.#receiver.onData(frame, bytes)
      case 'ack': return this.#sender.onAck(frame.seq)
      case 'state-ack': return this.#sender.onStateAck(frame.chunk)
      case 'hold': return this.#sender.onHold()
      case 'resume': return this.#sender.onResume(frame.round)
      default:
        if (frame.type !== 'links' && !DIGEST_REQUESTS.has(frame.type) && !DIGEST_ANSWERS.has(frame.type)) return session.fail('UNEXPECTED_FRAME', `${frame.type} is not expected here`)
        // Version 1 has neither `links` nor anti-entropy frames: to its sessions they are unknown.
        if ((session.version ?? 1) < 2) return session.fail('UNKNOWN_FRAME', `${frame.type} is not part of protocol version ${session.version ?? 1}`)
        if (frame.type === 'links') return this.#sender.onLinks(frame.peers)
        this.#init.digests?.onFrame(frame as DigestFrame, bytes)
    }
  }

  #dial (): void {
    if (this.#stopped || this.#session !== undefined || this.#dialing) return
    try {
      this.#init.dial(this.url)
    } catch (err) {
      // An unusable URL: said once per attempt, retried slowly in case the mesh is fixed.
      this.#init.emit('peer-rejected', { peer: this.id, remoteAddress: this.url, code: 'INVALID_URL', reason: (err as Error).message })
      this.#redial(this.#backoff.next())
      return
    }
    this.#dialing = true
  }

  #redial (delayMs: number): void {
    if (this.#stopped || this.#session !== undefined || this.#dialing || this.#redialTimer !== undefined) return
    this.#redialTimer = setTimeout(() => {
      this.#redialTimer = undefined
      this.#dial()
    }, delayMs)
  }
}
