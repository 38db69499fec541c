/**
 * One WebSocket between this node and a peer: decoding, the handshake (either role),
 * heartbeats and closing with the right code. Once established it hands every other
 * frame to its owner through `onFrame`, in arrival order. It never throws out of a ws
 * callback: bad input closes this socket only.
 *
 * Handshake (docs/protocol.md "Handshake"):
 *   dialer → hello {versions, cluster, node, nonce, time}
 *   acceptor → welcome {version, cluster, node, nonce, time, echo, proof(acceptor)}
 *   dialer → auth {proof(dialer), time, echo}
 * Each side has a clock sample when its half completes.
 */
import type { WebSocket } from 'ws'
import { MarksyncError, isMarksyncError } from '../errors.js'
import { HEARTBEAT_MISSES, MAX_SESSION_BUFFERED_BYTES, PROTOCOL_VERSIONS } from '../limits.js'
import {
  HANDSHAKE_FRAMES, chooseVersion, closeCodeFor, computeProof, decodeFrame, encodeFrame, newNonce,
  verifyProof, type Frame, type HelloFrame, type ProofInput, type Role
} from '../protocol/index.js'
import { clockSample, type ClockSample } from './clock-sample.js'
import type { FrameRate } from './peer-budget.js'

export interface SessionInit {
  role: Role
  nodeId: string
  cluster: string
  secret: Buffer
  /**
   * Further secrets accepted in a peer's proof, while the cluster secret is rotated
   * (docs/security.md). This side proves with `secret` as acceptor, and as dialer with
   * whichever secret verified the acceptor's proof, so nodes one rotation step apart agree.
   */
  acceptSecrets?: readonly Buffer[]
  /** Node ids allowed to connect (acceptor) or the one expected (dialer: exactly one). */
  peers: ReadonlySet<string>
  /** Wall clock reading in ms (the store's clock, uncorrected). */
  wallTime: () => number
  handshakeTimeoutMs: number
  heartbeatMs: number
  remoteAddress: string
  /** The frame budget of this session (docs/security.md "Budgets"); none: unlimited. */
  frameRate?: FrameRate
}

export interface SessionHandlers {
  onEstablished: (session: Session, sample: ClockSample) => void
  onFrame: (session: Session, frame: Frame, bytes: number) => void
  onSample: (session: Session, sample: ClockSample) => void
  onClosed: (session: Session) => void
}

type State = 'handshake' | 'established' | 'closing' | 'closed'

function codeOf (err: unknown): string {
  return isMarksyncError(err) ? err.code : 'INVALID_FRAME'
}

export class Session {
  readonly role: Role
  readonly remoteAddress: string
  /** The peer's node id, known after its hello (acceptor) or from the start (dialer). */
  peer: string | undefined
  version: number | undefined
  /** Error code this side closed with, or the peer's error frame code, or the ws close code. */
  closeCode: string | undefined
  closeReason = ''
  /** ws close code seen when the socket closed. */
  wsCode: number | undefined
  establishedAt: number | undefined
  bytesSent = 0
  bytesReceived = 0
  /** This side closed it (bad input, policy, shutdown), rather than the peer or the network. */
  failedLocally = false

  readonly #ws: WebSocket
  readonly #init: SessionInit
  readonly #on: SessionHandlers
  #state: State = 'handshake'
  #myNonce = newNonce()
  #peerNonce: Uint8Array | undefined
  #helloTime = 0
  #welcomeTime = 0
  #lastHeard = performance.now()
  /** Heartbeats since a frame last arrived: counted in ticks, so a stall of our own event loop (frames waiting unread in the socket) is not taken for a silent peer. */
  #silentTicks = 0
  #handshakeTimer: NodeJS.Timeout | undefined
  #killTimer: NodeJS.Timeout | undefined
  readonly #closeWaiters: Array<() => void> = []

  constructor (ws: WebSocket, init: SessionInit, handlers: SessionHandlers) {
    this.#ws = ws
    this.#init = init
    this.#on = handlers
    this.role = init.role
    this.remoteAddress = init.remoteAddress
    if (init.role === 'dialer') this.peer = [...init.peers][0]
    ws.binaryType = 'nodebuffer'
    ws.on('error', err => this.#onError(err))
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary))
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()))
    this.#handshakeTimer = setTimeout(() => this.fail('HANDSHAKE_TIMEOUT', `no handshake within ${init.handshakeTimeoutMs} ms`), init.handshakeTimeoutMs)
    if (init.role === 'dialer') {
      if (ws.readyState === ws.OPEN) this.#sendHello()
      else ws.once('open', () => this.#sendHello())
    }
  }

  get established (): boolean {
    return this.#state === 'established'
  }

  get open (): boolean {
    return this.#state === 'established' || this.#state === 'handshake'
  }

  /** Bytes queued in the socket, not yet written (ws `bufferedAmount`). */
  get bufferedAmount (): number {
    return this.#ws.bufferedAmount
  }

  /** The dialer of this session, for the one-session-per-pair rule. */
  get dialer (): string | undefined {
    return this.role === 'dialer' ? this.#init.nodeId : this.peer
  }

  /** Encodes and sends; `done` runs once the bytes are handed to the OS. False if not open. */
  send (frame: Frame, done?: () => void): number {
    if (this.#state !== 'established' && this.#state !== 'handshake') return 0
    // A dial still connecting cannot carry frames (ws would throw): it is simply closed.
    if (this.#ws.readyState !== this.#ws.OPEN) return 0
    // A peer that sends pings (or batches to ack) but never reads would grow our send
    // buffer without end; past the cap it is cut off instead (the pump stops long before).
    if (this.#ws.bufferedAmount > MAX_SESSION_BUFFERED_BYTES) {
      this.terminate('SLOW_PEER', `more than ${MAX_SESSION_BUFFERED_BYTES} bytes unsent`)
      return 0
    }
    const bytes = encodeFrame(frame)
    this.bytesSent += bytes.length
    this.#ws.send(bytes, { binary: true }, done === undefined ? undefined : () => done())
    return bytes.length
  }

  /** Sends an error frame, then closes with the code's close code. Idempotent. */
  fail (code: string, message: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.failedLocally = true
    this.closeCode ??= code
    this.closeReason = message
    this.send({ type: 'error', code, message })
    this.#close(closeCodeFor(code), code)
  }

  /** Immediate teardown for a peer that stopped answering (no close handshake possible). */
  terminate (code: string, message: string): void {
    if (this.#state === 'closed') return
    this.failedLocally = true
    this.closeCode ??= code
    this.closeReason = message
    this.#state = 'closing'
    this.#ws.terminate()
  }

  /** Runs `fn` once the socket is closed (at once if it is). */
  onClose (fn: () => void): void {
    if (this.#state === 'closed') fn()
    else this.#closeWaiters.push(fn)
  }

  /** Called every heartbeat interval: ping, or terminate a peer silent for too long. */
  tick (): void {
    if (this.#state !== 'established') return
    const silentMs = performance.now() - this.#lastHeard
    if (++this.#silentTicks > HEARTBEAT_MISSES && silentMs > this.#init.heartbeatMs * HEARTBEAT_MISSES) {
      this.terminate('HEARTBEAT_TIMEOUT', `nothing heard for ${Math.round(silentMs)} ms`)
      return
    }
    this.send({ type: 'ping', t0: this.#now() })
  }

  #now (): number {
    return Math.round(this.#init.wallTime())
  }

  #close (wsCode: number, reason: string): void {
    this.#state = 'closing'
    clearTimeout(this.#handshakeTimer)
    try {
      this.#ws.close(wsCode, reason)
    } catch {
      this.#ws.terminate()
    }
    // A peer that does not answer the close handshake is cut off rather than waited on.
    this.#killTimer = setTimeout(() => this.#ws.terminate(), 1_000)
  }

  #onError (err: Error & { code?: string }): void {
    // ws closes the socket itself after a protocol error (1009 for an oversized frame).
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.failedLocally = true
      this.closeCode ??= 'FRAME_TOO_LARGE'
    } else {
      this.closeCode ??= 'SOCKET_ERROR'
    }
    this.closeReason ||= err.message
    if (this.#state === 'handshake' || this.#state === 'established') this.#state = 'closing'
  }

  #onClose (code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.wsCode = code
    this.closeCode ??= reason !== '' ? reason : `WS_${code}`
    clearTimeout(this.#handshakeTimer)
    clearTimeout(this.#killTimer)
    this.#on.onClosed(this)
    for (const fn of this.#closeWaiters.splice(0)) fn()
  }

  #onMessage (data: Buffer, isBinary: boolean): void {
    if (this.#state !== 'handshake' && this.#state !== 'established') return
    this.#lastHeard = performance.now()
    this.#silentTicks = 0
    this.bytesReceived += data.length
    if (!isBinary) {
      this.fail('INVALID_FRAME', 'text messages are not part of the protocol')
      return
    }
    let frame: Frame
    try {
      frame = decodeFrame(data)
    } catch (err) {
      this.fail(codeOf(err), (err as Error).message)
      return
    }
    // Batches and state chunks are bounded by the receive window (WINDOW_EXCEEDED), and are
    // the real work: only the frames nothing else bounds (pings, pongs, acks, holds...) are rated.
    if (frame.type !== 'batch' && frame.type !== 'state' && this.#init.frameRate?.take() === false) {
      this.fail('RATE_LIMITED', 'frames arrive faster than the per-session budget')
      return
    }
    try {
      this.#handle(frame, data.length)
    } catch (err) {
      this.fail(isMarksyncError(err) ? err.code : 'INTERNAL', (err as Error).message)
    }
  }

  #handle (frame: Frame, bytes: number): void {
    if (frame.type === 'error') {
      this.closeCode = `PEER_${frame.code}`
      this.closeReason = frame.message
      this.#close(closeCodeFor(frame.code), frame.code)
      return
    }
    if (this.#state === 'handshake') {
      this.#handshake(frame)
      return
    }
    if (HANDSHAKE_FRAMES.has(frame.type)) throw new MarksyncError('UNEXPECTED_FRAME', `${frame.type} after the handshake`)
    if (frame.type === 'ping') {
      const t1 = this.#now()
      this.send({ type: 'pong', t0: frame.t0, t1, t2: this.#now() })
    } else if (frame.type === 'pong') {
      this.#on.onSample(this, clockSample(frame.t0, frame.t1, frame.t2, this.#now()))
    } else {
      this.#on.onFrame(this, frame, bytes)
    }
  }

  #proof (role: Role, peerNonce: Uint8Array): ProofInput {
    const dialerIsMe = this.role === 'dialer'
    const peer = this.peer as string
    return {
      role,
      version: this.version as number,
      cluster: this.#init.cluster,
      dialer: dialerIsMe ? this.#init.nodeId : peer,
      acceptor: dialerIsMe ? peer : this.#init.nodeId,
      dialerNonce: dialerIsMe ? this.#myNonce : peerNonce,
      acceptorNonce: dialerIsMe ? peerNonce : this.#myNonce
    }
  }

  /** The secret (ours, or one accepted during a rotation) that `proof` was made with, if any. */
  #verified (input: ProofInput, proof: Uint8Array): Buffer | undefined {
    let match: Buffer | undefined
    // Every candidate is checked, so timing does not tell which one matched.
    for (const secret of [this.#init.secret, ...(this.#init.acceptSecrets ?? [])]) {
      if (verifyProof(secret, input, proof) && match === undefined) match = secret
    }
    return match
  }

  #sendHello (): void {
    this.#helloTime = this.#now()
    this.send({ type: 'hello', versions: [...PROTOCOL_VERSIONS], cluster: this.#init.cluster, node: this.#init.nodeId, nonce: this.#myNonce, time: this.#helloTime })
  }

  #handshake (frame: Frame): void {
    const expected = this.role === 'acceptor' ? (this.#peerNonce === undefined ? 'hello' : 'auth') : 'welcome'
    if (frame.type !== expected) {
      if (HANDSHAKE_FRAMES.has(frame.type)) throw new MarksyncError('UNEXPECTED_FRAME', `expected ${expected}, got ${frame.type}`)
      throw new MarksyncError('NOT_AUTHENTICATED', `${frame.type} before the handshake completed`)
    }
    if (frame.type === 'hello') this.#onHello(frame)
    else if (frame.type === 'welcome') {
      if (frame.cluster !== this.#init.cluster) throw new MarksyncError('WRONG_CLUSTER', `cluster ${frame.cluster} is not ${this.#init.cluster}`)
      if (frame.node !== this.peer) throw new MarksyncError('UNKNOWN_PEER', `dialed ${String(this.peer)}, answered by ${frame.node}`)
      if (!PROTOCOL_VERSIONS.includes(frame.version)) throw new MarksyncError('UNSUPPORTED_VERSION', `version ${frame.version} was not offered`)
      this.version = frame.version
      const secret = this.#verified(this.#proof('acceptor', frame.nonce), frame.proof)
      if (secret === undefined) throw new MarksyncError('AUTH_FAILED', 'the peer does not know the cluster secret')
      const t3 = this.#now()
      const proof = computeProof(secret, this.#proof('dialer', frame.nonce))
      this.send({ type: 'auth', proof, time: t3, echo: frame.time })
      this.#establish(clockSample(this.#helloTime, frame.time, frame.time, t3))
    } else if (frame.type === 'auth') {
      if (this.#verified(this.#proof('dialer', this.#peerNonce as Uint8Array), frame.proof) === undefined) {
        throw new MarksyncError('AUTH_FAILED', 'the peer does not know the cluster secret')
      }
      this.#establish(clockSample(this.#welcomeTime, frame.time, frame.time, this.#now()))
    }
  }

  #onHello (hello: HelloFrame): void {
    if (hello.cluster !== this.#init.cluster) throw new MarksyncError('WRONG_CLUSTER', `cluster ${hello.cluster} is not ${this.#init.cluster}`)
    if (!this.#init.peers.has(hello.node)) throw new MarksyncError('UNKNOWN_PEER', `${hello.node} is not a configured peer`)
    const version = chooseVersion(hello.versions)
    if (version === undefined) {
      throw new MarksyncError('UNSUPPORTED_VERSION', `none of versions ${hello.versions.join(',')} is supported (${PROTOCOL_VERSIONS.join(',')})`)
    }
    this.peer = hello.node
    this.version = version
    this.#peerNonce = hello.nonce
    this.#welcomeTime = this.#now()
    const proof = computeProof(this.#init.secret, this.#proof('acceptor', hello.nonce))
    this.send({ type: 'welcome', version, cluster: this.#init.cluster, node: this.#init.nodeId, nonce: this.#myNonce, time: this.#welcomeTime, echo: hello.time, proof })
  }

  #establish (sample: ClockSample): void {
    clearTimeout(this.#handshakeTimer)
    this.#state = 'established'
    this.establishedAt = Date.now()
    this.#on.onEstablished(this, sample)
  }
}
