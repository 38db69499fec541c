/**
 * The replicator: one WebSocket session per configured peer, over which this node's
 * feed is pushed and the peer's is applied (docs/protocol.md). It keeps what concerns
 * the mesh as a whole; each peer's own work is its PeerLink's.
 *
 * Roles: every node listens (listener.ts) and each link dials its peer while it has no
 * session. When both dials succeed, both ends keep the session dialed by the lower node
 * id (or, between two sessions dialed by the same node, the newer) and close the other
 * with DUPLICATE_SESSION, so exactly one survives whatever the timing. The winner is
 * attached to its link, and from then on its frames go straight to the link.
 * Flow: store 'entered' → (pushDelayMs) → every link pumps its feed. A heartbeat tick
 * pings, terminates silent peers, re-evaluates clock holds and self-correction, and
 * watches this node's own wall clock for jumps.
 */
import { EventEmitter } from 'node:events'
import { WebSocket } from 'ws'
import type { PeerStatus } from '../contracts.js'
import type { ClockStep } from '../hlc.js'
import { MAX_FRAME_BYTES, RECENT_CHANGES } from '../limits.js'
import type { LogEntry } from '../types.js'
import type { EmitEvent, ReplicatorApi, ReplicatorEvents, ReplicatorOptions } from './api.js'
import { AntiEntropy, type AntiEntropyStatus, type RepairOutcome } from './anti-entropy.js'
import type { ClockSample } from './clock-sample.js'
import { correctClock } from './clock-correction.js'
import { Listener } from './listener.js'
import { resolveOptions, type ResolvedOptions } from './options.js'
import { PeerBudget, peerKey } from './peer-budget.js'
import { PeerLink } from './peer-link.js'
import { LinkReports } from './link-reports.js'
import { linkedNodes } from './relay-gate.js'
import { RecentChanges } from './recent-changes.js'
import { Reincarnation } from './reincarnation.js'
import { reportClose } from './session-faults.js'
import { prefersCandidate } from './session-rule.js'
import { Session, closeWithGrace, type SessionHandlers } from './session.js'

/** Closing sessions get this long to finish the close handshake on stop(), in ms. */
const STOP_GRACE_MS = 2_000

export class Replicator extends EventEmitter<ReplicatorEvents> implements ReplicatorApi {
  readonly #o: ResolvedOptions
  readonly #budget: PeerBudget
  readonly #acceptSecrets: readonly Buffer[]
  readonly #links = new Map<string, PeerLink>()
  readonly #sessions = new Set<Session>()
  readonly #handlers: SessionHandlers
  readonly #listener: Listener
  readonly #antiEntropy: AntiEntropy
  #started = false
  #stopped = false
  readonly #reincarnation: Reincarnation
  readonly #members: ReadonlySet<string> | undefined
  #ticker: NodeJS.Timeout | undefined
  /** Cancels the push scheduled after the last 'entered' (none: nothing scheduled). */
  #cancelPush: (() => void) | undefined
  readonly #recent = new RecentChanges(RECENT_CHANGES)
  /** With the mesh's links known: reports of this node's links, so peers leave out relays. */
  readonly #reports: LinkReports | undefined
  /** For the links: the key-generic emit, which Node's typed `emit` cannot express. */
  readonly #emit: EmitEvent = (event, ...args) => { EventEmitter.prototype.emit.call(this, event, ...args) }
  readonly #onEntered = (entries: LogEntry[]): void => {
    for (const e of entries) this.#recent.add(e)
    this.#schedulePush()
  }

  readonly #onClockJump = (jump: ClockStep): void => {
    // Offsets measured before the step are off by exactly the step: shift them rather than let a
    // stale sample undo the clock's compensation (or flip a peer's skew flag) until the next heartbeat.
    const step = jump.toMs - jump.fromMs
    for (const link of this.#links.values()) link.shiftOffset(step)
    this.emit('clock-jump', jump)
  }

  constructor (options: ReplicatorOptions) {
    super()
    this.#o = resolveOptions(options)
    this.#budget = new PeerBudget(options.budget)
    this.#acceptSecrets = options.acceptSecrets ?? []
    this.#antiEntropy = new AntiEntropy({
      store: this.#o.store,
      peers: options.peers.map(p => p.id),
      intervalMs: this.#o.antiEntropyIntervalMs,
      limits: { entries: this.#o.batchEntries, bytes: this.#o.batchBytes }
    })
    this.#antiEntropy.on('round', result => { this.emit('anti-entropy-round', result) })
    this.#antiEntropy.on('round-failed', event => { this.emit('anti-entropy-failed', event) })
    const host = { store: this.#o.store, stopped: () => this.#stopped, sessions: () => this.#sessions }
    this.#reincarnation = new Reincarnation({ ...host, onReincarnated: incarnation => { this.emit('reincarnated', { incarnation }) }, onError: err => { this.emit('error', err) } })
    this.#members = options.members === undefined ? undefined : new Set([this.#o.nodeId, ...options.members])
    const linked = linkedNodes(options.links ?? [])
    for (const peer of options.peers) this.#links.set(peer.id, this.#newLink(peer, linked.get(peer.id)))
    this.#reports = options.links === undefined ? undefined : new LinkReports(this.#links.values())
    this.#handlers = {
      onEstablished: (s, sample) => this.#onEstablished(s, sample),
      onSample: (s, sample) => this.#onSample(s, sample),
      onClosed: s => this.#onClosed(s)
    }
    this.#listener = new Listener({
      listen: this.#o.listen,
      tls: this.#o.tls,
      handshakeTimeoutMs: this.#o.handshakeTimeoutMs,
      budget: this.#budget,
      inbound: () => this.#inbound(),
      onConnection: (ws, remoteAddress) => this.#accept(ws, remoteAddress)
    })
  }

  get port (): number { return this.#listener.port }
  get clockCorrectionMs (): number { return this.#o.store.clock.correctionMs }

  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    for (const link of this.#links.values()) await link.load()
    await this.#listener.start()
    this.#o.store.on('entered', this.#onEntered)
    this.#o.store.on('clock-jump', this.#onClockJump)
    this.#ticker = setInterval(() => this.#tick(), this.#o.heartbeatMs)
    this.#antiEntropy.start()
    this.#reports?.start()
    for (const link of this.#links.values()) link.start()
  }

  async stop (): Promise<void> {
    if (!this.#started || this.#stopped) return
    this.#stopped = true
    clearInterval(this.#ticker)
    this.#reports?.stop()
    this.#cancelPush?.()
    this.#o.store.off('entered', this.#onEntered)
    this.#o.store.off('clock-jump', this.#onClockJump)
    this.#antiEntropy.stop()
    for (const link of this.#links.values()) link.stop()
    await Promise.all([...this.#sessions].map(async s => await closeWithGrace(s, STOP_GRACE_MS)))
    await this.#listener.stop()
    for (const link of this.#links.values()) await link.idle()
  }

  status (): PeerStatus[] { return [...this.#links.values()].map(l => l.status()) }
  antiEntropyStatus (): AntiEntropyStatus { return this.#antiEntropy.status() }

  /** Anti-entropy rounds now (docs/protocol.md §7a): with `peer` or every connected peer, for `user` or all. */
  async repair (options: { peer?: string, user?: string } = {}): Promise<RepairOutcome[]> {
    return await this.#antiEntropy.repair(options)
  }

  #newLink (peer: { id: string, url: string }, linkedTo: ReadonlySet<string> = new Set()): PeerLink {
    const { store, batchEntries, batchBytes, window, maxClockSkewMs, heartbeatMs } = this.#o
    return new PeerLink({
      store,
      peer,
      batchEntries,
      batchBytes,
      window,
      maxClockSkewMs,
      healthyAfterMs: heartbeatMs,
      recent: this.#recent,
      peerLinkedTo: new Set([...linkedTo].filter(id => id !== this.#o.nodeId)),
      emit: this.#emit,
      dial: url => this.#dial(peer.id, url),
      digests: {
        attach: (session, version) => { this.#antiEntropy.attach(peer.id, session, version) },
        detach: () => { this.#antiEntropy.detach(peer.id) },
        onFrame: (frame, bytes) => { this.#antiEntropy.onFrame(peer.id, frame, bytes) }
      },
      members: this.#members,
      onRestoredCopy: () => { void this.#reincarnation.run() }
    })
  }

  #inbound (): { open: number, pending: number } {
    let open = 0
    let pending = 0
    for (const s of this.#sessions) {
      if (s.role !== 'acceptor' || !s.open) continue
      open++
      if (!s.established) pending++
    }
    return { open, pending }
  }

  #accept (ws: WebSocket, remoteAddress: string): void {
    if (this.#stopped) {
      ws.terminate()
      return
    }
    this.#open(ws, 'acceptor', new Set(this.#links.keys()), remoteAddress)
  }

  /** A link's dial: throws for an unusable URL (the link reports it). */
  #dial (peer: string, url: string): void {
    const tls = this.#o.tls
    const ws = new WebSocket(url, {
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: this.#o.handshakeTimeoutMs,
      ca: tls?.ca,
      cert: tls?.cert,
      key: tls?.key
    })
    this.#open(ws, 'dialer', new Set([peer]), url)
  }

  #open (ws: WebSocket, role: 'dialer' | 'acceptor', peers: ReadonlySet<string>, remoteAddress: string): void {
    const o = this.#o
    this.#sessions.add(new Session(ws, {
      role,
      nodeId: o.nodeId,
      cluster: o.cluster,
      secret: o.secret,
      acceptSecrets: this.#acceptSecrets,
      peers,
      wallTime: () => o.store.clock.wallTime(),
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      heartbeatMs: o.heartbeatMs,
      remoteAddress,
      frameRate: this.#budget.frameRate(),
      claimFor: peer => this.#links.get(peer)?.claim() ?? {}
    }, this.#handlers))
  }

  #linkOf (s: Session): PeerLink | undefined {
    return s.peer === undefined ? undefined : this.#links.get(s.peer)
  }

  #onEstablished (s: Session, sample: ClockSample): void {
    const link = this.#linkOf(s)
    if (link === undefined || this.#stopped) {
      s.fail('SHUTTING_DOWN', 'the node is stopping')
      return
    }
    // A cluster member that faulted too often waits out its refusal (it redials later).
    const wait = this.#budget.refusedFor(peerKey(link.id))
    if (wait > 0) {
      s.fail('BACKED_OFF', `refused for ${wait} ms after repeated faults`)
      return
    }
    const current = link.session
    if (current !== undefined && current !== s) {
      if (!prefersCandidate(this.#o.nodeId, s, current)) {
        s.fail('DUPLICATE_SESSION', 'a session with this peer exists')
        return
      }
      link.detach(current)
      current.fail('DUPLICATE_SESSION', 'replaced by a newer session')
    }
    link.attach(s, sample)
    this.#reports?.changed()
    // A session replacing another (both ends dialed at once) is no new connection to report.
    if (current === undefined) this.emit('peer-connected', { peer: link.id })
    this.#correctClock()
  }

  #onSample (s: Session, sample: ClockSample): void {
    const link = this.#linkOf(s)
    if (link?.session !== s) return
    link.onSample(sample)
    this.#correctClock()
  }

  #onClosed (s: Session): void {
    this.#sessions.delete(s)
    const link = this.#linkOf(s)
    link?.onSessionClosed(s)
    if (link !== undefined && link.session === undefined) this.#reports?.changed()
    reportClose(s, this.#budget, this.#emit)
    if (link === undefined || this.#stopped) return
    link.redialAfter(s)
  }

  #schedulePush (): void {
    if (this.#cancelPush !== undefined || this.#stopped) return
    const push = (): void => {
      this.#cancelPush = undefined
      for (const link of this.#links.values()) link.pump()
    }
    // 0 (the default): at the next turn of the event loop; a timer of 0 would wait 1 ms.
    if (this.#o.pushDelayMs === 0) {
      const immediate = setImmediate(push)
      this.#cancelPush = () => { clearImmediate(immediate) }
    } else {
      const timer = setTimeout(push, this.#o.pushDelayMs)
      this.#cancelPush = () => { clearTimeout(timer) }
    }
  }

  #tick (): void {
    for (const s of this.#sessions) s.tick()
    for (const link of this.#links.values()) link.evaluateClock()
    // Reading the clock lets it notice a step of this node's wall clock even while idle
    // (the store reports it as 'clock-jump', re-emitted above), before the correction.
    this.#o.store.clock.wallTime()
    this.#correctClock()
  }

  /** Self-correction (clock-correction.ts). */
  #correctClock (): void {
    correctClock([...this.#links.values()], this.#o.store.clock, this.#o.maxClockSkewMs, this.#emit)
  }
}
