/**
 * The replicator: one WebSocket session per configured peer, over which this node's
 * feed is pushed and the peer's is applied (see peer-link.ts, session.ts and
 * docs/protocol.md).
 *
 * Roles: every node listens and dials every peer it has no session with. When both
 * dials succeed, both ends keep the session dialed by the lower node id (or, between
 * two sessions dialed by the same node, the newer) and close the other with
 * DUPLICATE_SESSION, so exactly one survives whatever the timing.
 * Flow: store 'entered' → (pushDelayMs) → every link pumps its feed. A heartbeat tick
 * pings, terminates silent peers, re-evaluates clock holds and self-correction, and
 * watches this node's own wall clock for jumps.
 */
import { EventEmitter } from 'node:events'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { WebSocket, WebSocketServer } from 'ws'
import {
  DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ENTRIES, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_PUSH_DELAY_MS, DEFAULT_WINDOW, MAX_BATCH_ENTRIES, RECENT_CHANGES, MAX_FRAME_BYTES, MAX_INBOUND_SOCKETS, MAX_WINDOW
} from '../limits.js'
import { checkNodeId } from '../validate.js'
import { checkCluster } from '../protocol/index.js'
import type { PeerStatus, ReplicatorApi, ReplicatorOptions } from './api.js'
import { Backoff } from './backoff.js'
import { correctionFor, type ClockSample } from './clock-sample.js'
import { PeerLink } from './peer-link.js'
import { RecentChanges } from './recent-changes.js'
import type { LogEntry } from '../types.js'
import { PeerBudget, addressKey, peerKey } from './peer-budget.js'
import { Session, type SessionHandlers, type SessionInit } from './session.js'

/** Room left in a frame for everything but the entries, in bytes. */
const FRAME_OVERHEAD_BYTES = 1024
/** Closing sessions get this long to finish the close handshake on stop(), in ms. */
const STOP_GRACE_MS = 2_000
/** A correction change smaller than this is applied silently, without an event, in ms. */
const CORRECTION_EVENT_MS = 1_000
/** Close codes that end a session without the peer having misbehaved. */
const ORDINARY_CLOSES = new Set(['DUPLICATE_SESSION', 'SHUTTING_DOWN'])
/** Closes that do not count against a peer's budget: a lost network, or our own refusal. */
const NOT_FAULTS = new Set(['HEARTBEAT_TIMEOUT', 'BACKED_OFF'])

export class Replicator extends EventEmitter implements ReplicatorApi {
  readonly #o: Required<Omit<ReplicatorOptions, 'tls' | 'budget' | 'acceptSecrets'>> & Pick<ReplicatorOptions, 'tls'>
  readonly #budget: PeerBudget
  readonly #acceptSecrets: readonly Buffer[]
  readonly #links = new Map<string, PeerLink>()
  readonly #backoff = new Map<string, Backoff>()
  readonly #sessions = new Set<Session>()
  readonly #handlers: SessionHandlers
  #server: WebSocketServer | undefined
  /** The HTTP(S) server the WebSocket server upgrades from; ours, so its sockets are bounded. */
  #http: HttpServer | HttpsServer | undefined
  #port = 0
  #started = false
  #stopped = false
  #ticker: NodeJS.Timeout | undefined
  #pushTimer: NodeJS.Timeout | undefined
  readonly #recent = new RecentChanges(RECENT_CHANGES)
  readonly #onEntered = (entries: LogEntry[]): void => {
    for (const e of entries) this.#recent.add(e)
    this.#schedulePush()
  }
  readonly #onClockJump = (jump: { fromMs: number, toMs: number }): void => {
    // Offsets measured before the step are off by exactly the step: shift them rather than
    // let a stale sample undo the clock's compensation (or flip a peer's skew flag) until
    // the next heartbeat measures again.
    const step = jump.toMs - jump.fromMs
    for (const link of this.#links.values()) link.shiftOffset(step)
    this.emit('clock-jump', jump)
  }

  constructor (options: ReplicatorOptions) {
    super()
    checkNodeId(options.nodeId, 'INVALID_CONFIG')
    checkCluster(options.cluster)
    this.#budget = new PeerBudget(options.budget)
    this.#acceptSecrets = options.acceptSecrets ?? []
    this.#o = {
      heartbeatMs: DEFAULT_HEARTBEAT_MS,
      maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
      batchEntries: DEFAULT_BATCH_ENTRIES,
      batchBytes: DEFAULT_BATCH_BYTES,
      window: DEFAULT_WINDOW,
      pushDelayMs: DEFAULT_PUSH_DELAY_MS,
      handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ...dropUndefined(options)
    }
    // Never build a frame the peer must refuse, nor a window its queue cannot hold.
    this.#o.batchEntries = clamp(this.#o.batchEntries, 1, MAX_BATCH_ENTRIES)
    this.#o.batchBytes = clamp(this.#o.batchBytes, 1, MAX_FRAME_BYTES - FRAME_OVERHEAD_BYTES)
    this.#o.window = clamp(this.#o.window, 1, MAX_WINDOW / 2)
    for (const peer of options.peers) {
      checkNodeId(peer.id, 'INVALID_CONFIG')
      if (peer.id === options.nodeId) throw new TypeError(`peer ${peer.id} is this node`)
      if (this.#links.has(peer.id)) throw new TypeError(`peer ${peer.id} is listed twice`)
      this.#links.set(peer.id, new PeerLink({
        store: options.store,
        peer,
        batchEntries: this.#o.batchEntries,
        batchBytes: this.#o.batchBytes,
        window: this.#o.window,
        maxClockSkewMs: this.#o.maxClockSkewMs,
        recent: this.#recent,
        emit: (event, payload) => { this.emit(event, payload) }
      }))
      this.#backoff.set(peer.id, new Backoff())
    }
    this.#handlers = {
      onEstablished: (s, sample) => this.#onEstablished(s, sample),
      onFrame: (s, frame, bytes) => { const link = this.#linkOf(s); if (link?.session === s) link.onFrame(frame, bytes) },
      onSample: (s, sample) => this.#onSample(s, sample),
      onClosed: s => this.#onClosed(s)
    }
  }

  get port (): number {
    return this.#port
  }

  get clockCorrectionMs (): number {
    return this.#o.store.clock.correctionMs
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    for (const link of this.#links.values()) await link.load()
    await this.#listen()
    this.#o.store.on('entered', this.#onEntered)
    this.#o.store.on('clock-jump', this.#onClockJump)
    this.#ticker = setInterval(() => this.#tick(), this.#o.heartbeatMs)
    for (const link of this.#links.values()) this.#dial(link)
  }

  async stop (): Promise<void> {
    if (!this.#started || this.#stopped) return
    this.#stopped = true
    clearInterval(this.#ticker)
    clearTimeout(this.#pushTimer)
    this.#o.store.off('entered', this.#onEntered)
    this.#o.store.off('clock-jump', this.#onClockJump)
    for (const link of this.#links.values()) clearTimeout(link.redialTimer)
    const closed = [...this.#sessions].map(async s => await new Promise<void>(resolve => {
      const timer = setTimeout(() => { s.terminate('SHUTTING_DOWN', 'stop'); resolve() }, STOP_GRACE_MS)
      s.onClose(() => { clearTimeout(timer); resolve() })
      s.fail('SHUTTING_DOWN', 'the node is stopping')
    }))
    await Promise.all(closed)
    await new Promise<void>(resolve => { this.#server?.close(() => resolve()) ?? resolve() })
    const http = this.#http
    if (http !== undefined) {
      await new Promise<void>(resolve => {
        http.close(() => resolve())
        http.closeAllConnections() // sockets that never upgraded would hold close() until their timeout
      })
    }
    for (const link of this.#links.values()) await link.idle()
  }

  status (): PeerStatus[] {
    return [...this.#links.values()].map(l => l.status())
  }

  async #listen (): Promise<void> {
    const { host, port } = this.#o.listen
    const wsOptions = { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false, verifyClient: this.#admit }
    const tls = this.#o.tls
    // Plain HTTP requests are not ours to serve: 426, as ws answers them on its own servers.
    const upgradeRequired = (_req: IncomingMessage, res: ServerResponse): void => { res.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade Required') }
    // Checked every second rather than node's 30 s, so a silent socket goes within the timeout.
    const httpOptions = { connectionsCheckingInterval: Math.min(1_000, this.#o.handshakeTimeoutMs) }
    let http: HttpServer | HttpsServer
    if (tls?.cert !== undefined && tls.key !== undefined) {
      // With a cluster CA, TLS is mutual: a dialer without a certificate the CA signed is
      // refused before any WebSocket exists (the HMAC handshake still follows).
      const mutual = tls.ca !== undefined
      http = createHttpsServer({ ...httpOptions, cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: mutual, rejectUnauthorized: mutual }, upgradeRequired)
    } else {
      http = createHttpServer(httpOptions, upgradeRequired)
    }
    // TCP sockets are bounded before any of them is upgraded (docs/security.md "Budgets"):
    // at most MAX_INBOUND_SOCKETS at once, and the upgrade request within the handshake timeout.
    http.maxConnections = MAX_INBOUND_SOCKETS
    http.headersTimeout = this.#o.handshakeTimeoutMs
    http.requestTimeout = this.#o.handshakeTimeoutMs
    this.#http = http
    this.#server = new WebSocketServer({ ...wsOptions, server: http })
    // ws re-emits the HTTP server's errors (EADDRINUSE) on itself: without a listener that is
    // an uncaught crash instead of the rejected listen below.
    this.#server.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(port, host, () => { http.off('error', reject); resolve() })
    })
    http.on('error', () => {})
    const address = http.address()
    this.#port = typeof address === 'object' && address !== null ? address.port : port
    this.#server.on('connection', (ws, req) => {
      if (this.#stopped) {
        ws.terminate()
        return
      }
      this.#track(new Session(ws, this.#sessionInit('acceptor', new Set(this.#links.keys()), req.socket.remoteAddress ?? ''), this.#handlers))
    })
  }

  /** Per-peer budgets, checked at the HTTP upgrade before a WebSocket exists (peer-budget.ts). */
  readonly #admit = (info: { req: { socket: { remoteAddress?: string } } }, done: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void): void => {
    let inbound = 0
    let pending = 0
    for (const s of this.#sessions) {
      if (s.role !== 'acceptor' || !s.open) continue
      inbound++
      if (!s.established) pending++
    }
    const verdict = this.#budget.admit(info.req.socket.remoteAddress ?? '', inbound, pending)
    if (verdict.ok) return done(true)
    // Not an event per refusal: a flood of upgrades must not become a flood of log lines.
    const headers: Record<string, string> = verdict.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.ceil(verdict.retryAfterMs / 1000)) }
    done(false, verdict.status, verdict.code, headers)
  }

  #sessionInit (role: 'dialer' | 'acceptor', peers: ReadonlySet<string>, remoteAddress: string): SessionInit {
    return {
      role,
      nodeId: this.#o.nodeId,
      cluster: this.#o.cluster,
      secret: this.#o.secret,
      acceptSecrets: this.#acceptSecrets,
      peers,
      wallTime: () => this.#o.store.clock.wallTime(),
      handshakeTimeoutMs: this.#o.handshakeTimeoutMs,
      heartbeatMs: this.#o.heartbeatMs,
      remoteAddress,
      frameRate: this.#budget.frameRate()
    }
  }

  #track (session: Session): void {
    this.#sessions.add(session)
  }

  #linkOf (s: Session): PeerLink | undefined {
    return s.peer === undefined ? undefined : this.#links.get(s.peer)
  }

  #dial (link: PeerLink): void {
    if (this.#stopped || link.session !== undefined || link.dialing) return
    const tls = this.#o.tls
    let ws: WebSocket
    try {
      ws = new WebSocket(link.url, {
        maxPayload: MAX_FRAME_BYTES,
        perMessageDeflate: false,
        handshakeTimeout: this.#o.handshakeTimeoutMs,
        ca: tls?.ca,
        cert: tls?.cert,
        key: tls?.key
      })
    } catch (err) {
      // An unusable URL: said once per attempt, retried slowly in case the mesh is fixed.
      this.emit('peer-rejected', { peer: link.id, remoteAddress: link.url, code: 'INVALID_URL', reason: (err as Error).message })
      this.#redial(link, (this.#backoff.get(link.id) as Backoff).next())
      return
    }
    link.dialing = true
    this.#track(new Session(ws, this.#sessionInit('dialer', new Set([link.id]), link.url), this.#handlers))
  }

  #redial (link: PeerLink, delayMs: number): void {
    if (this.#stopped || link.session !== undefined || link.dialing || link.redialTimer !== undefined) return
    link.redialTimer = setTimeout(() => {
      link.redialTimer = undefined
      this.#dial(link)
    }, delayMs)
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
      if (!this.#prefer(s, current)) {
        s.fail('DUPLICATE_SESSION', 'a session with this peer exists')
        return
      }
      link.detach(current)
      current.fail('DUPLICATE_SESSION', 'replaced by a newer session')
    }
    clearTimeout(link.redialTimer)
    link.redialTimer = undefined
    link.attach(s, sample)
    this.emit('peer-connected', { peer: link.id })
    this.#correctClock()
  }

  /** The one-session-per-pair rule; both ends compute the same answer. */
  #prefer (candidate: Session, current: Session): boolean {
    const lower = this.#o.nodeId < (candidate.peer as string) ? this.#o.nodeId : candidate.peer
    const candidateLow = candidate.dialer === lower
    const currentLow = current.dialer === lower
    return candidateLow === currentLow ? true : candidateLow
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
    if (s.role === 'dialer' && link !== undefined) link.dialing = false
    const code = s.closeCode ?? 'UNKNOWN'
    if (link !== undefined && !ORDINARY_CLOSES.has(code)) link.noteError(code, s.closeReason)
    if (link !== undefined && link.session === s) {
      link.detach(s)
      this.emit('peer-disconnected', { peer: link.id, code, reason: s.closeReason })
    }
    if (s.failedLocally && !ORDINARY_CLOSES.has(code)) {
      this.emit('peer-rejected', { peer: s.peer, remoteAddress: s.remoteAddress, code, reason: s.closeReason })
      // Before authentication only the address is known (a claimed id proves nothing);
      // a dialer's failed handshakes are already slowed by its redial backoff.
      if (!NOT_FAULTS.has(code) && (s.establishedAt !== undefined || s.role === 'acceptor')) {
        const key = s.establishedAt !== undefined ? peerKey(s.peer as string) : addressKey(s.remoteAddress)
        const ms = this.#budget.fault(key)
        if (ms > 0) this.emit('peer-rejected', { peer: s.establishedAt !== undefined ? s.peer : undefined, remoteAddress: s.remoteAddress, code: 'BACKED_OFF', reason: `refused for ${ms} ms after repeated faults` })
      }
    }
    if (link === undefined || this.#stopped) return
    const backoff = this.#backoff.get(link.id) as Backoff
    // A session that lived through a few heartbeats was healthy: start over from the shortest delay.
    if (s.establishedAt !== undefined && Date.now() - s.establishedAt > this.#o.heartbeatMs) backoff.reset()
    this.#redial(link, backoff.next())
  }

  #schedulePush (): void {
    if (this.#pushTimer !== undefined || this.#stopped) return
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined
      for (const link of this.#links.values()) link.pump()
    }, this.#o.pushDelayMs)
  }

  #tick (): void {
    for (const s of this.#sessions) s.tick()
    for (const link of this.#links.values()) link.evaluateClock()
    // Reading the clock lets it notice a step of this node's wall clock even while idle
    // (the store reports it as 'clock-jump', re-emitted above), before the correction.
    this.#o.store.clock.wallTime()
    this.#correctClock()
  }

  /** Self-correction (docs/protocol.md "Clock skew"). */
  #correctClock (): void {
    const offsets: number[] = []
    for (const link of this.#links.values()) {
      if (link.session !== undefined && link.offsetMs !== null) offsets.push(link.offsetMs)
    }
    const next = correctionFor(offsets, this.#o.maxClockSkewMs)
    const clock = this.#o.store.clock
    const current = clock.correctionMs
    if (next === undefined || next === current) return
    clock.setCorrection(next)
    if (next === 0 || current === 0 || Math.abs(next - current) > CORRECTION_EVENT_MS) {
      this.emit('clock-corrected', { correctionMs: next, offsets })
    }
  }
}

function clamp (n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(n)))
}

function dropUndefined<T extends object> (o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
