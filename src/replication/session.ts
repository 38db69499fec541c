/**
 * One WebSocket between this node and a peer: decoding, the handshake (either role),
 * heartbeats and closing with the right code. Once established and attached, it hands
 * every other frame to the sink its peer link set (`deliverTo`), in arrival order. It never throws out of a ws
 * callback: bad input closes this socket only. The handshake itself is handshake.ts.
 */
import type { WebSocket } from 'ws'
import { MarksyncError, isMarksyncError, type ErrorCode } from '../errors.js'
import { HEARTBEAT_MISSES, MAX_SESSION_BUFFERED_BYTES } from '../limits.js'
import { HANDSHAKE_FRAMES, closeCodeFor, decodeFrame, encodeFrame, type Frame, type IncarnationClaim, type Role } from '../protocol/index.js'
import { clockSample, type ClockSample } from './clock-sample.js'
import { Handshake, type HandshakeInit } from './handshake.js'
import type { FrameRate } from './peer-budget.js'

export interface SessionInit extends HandshakeInit {
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
  onSample: (session: Session, sample: ClockSample) => void
  onClosed: (session: Session) => void
}

type State = 'handshake' | 'established' | 'closing' | 'closed'

/** Where an attached session hands the frames of the feed. */
export type FrameSink = (frame: Frame, bytes: number) => void

function codeOf (err: unknown): ErrorCode {
  return isMarksyncError(err) ? err.code : 'INVALID_FRAME'
}

export class Session {
  readonly role: Role
  readonly remoteAddress: string
  readonly #ws: WebSocket
  readonly #init: SessionInit
  readonly #on: SessionHandlers
  readonly #handshake: Handshake
  #sink: FrameSink | undefined
  #state: State = 'handshake'
  #closeCode: string | undefined
  #closeReason = ''
  #wsCode: number | undefined
  #establishedAt: number | undefined
  #bytesSent = 0
  #bytesReceived = 0
  #failedLocally = false
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
    this.#handshake = new Handshake(init, frame => { this.send(frame) }, () => this.#now())
    ws.binaryType = 'nodebuffer'
    ws.on('error', err => this.#onError(err))
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary))
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()))
    this.#handshakeTimer = setTimeout(() => this.fail('HANDSHAKE_TIMEOUT', `no handshake within ${init.handshakeTimeoutMs} ms`), init.handshakeTimeoutMs)
    if (init.role === 'dialer') {
      if (ws.readyState === ws.OPEN) this.#handshake.hello()
      else ws.once('open', () => this.#handshake.hello())
    }
  }

  /** The peer's node id, known after its hello (acceptor) or from the start (dialer). */
  get peer (): string | undefined { return this.#handshake.peer }
  get version (): number | undefined { return this.#handshake.version }
  /** The peer's incarnation fields from the handshake ({} from a peer without them). */
  get peerClaim (): IncarnationClaim { return this.#handshake.peerClaim }
  /** Error code this side closed with, or the peer's error frame code, or the ws close code. */
  get closeCode (): string | undefined { return this.#closeCode }
  get closeReason (): string { return this.#closeReason }
  /** ws close code seen when the socket closed. */
  get wsCode (): number | undefined { return this.#wsCode }
  get establishedAt (): number | undefined { return this.#establishedAt }
  get bytesSent (): number { return this.#bytesSent }
  get bytesReceived (): number { return this.#bytesReceived }
  /** This side closed it (bad input, policy, shutdown), rather than the peer or the network. */
  get failedLocally (): boolean { return this.#failedLocally }

  /** From now on, frames after the handshake go to `sink` (the peer link this session is attached to). */
  deliverTo (sink: FrameSink): void {
    this.#sink = sink
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
    this.#bytesSent += bytes.length
    this.#ws.send(bytes, { binary: true }, done === undefined ? undefined : () => done())
    return bytes.length
  }

  /** Sends an error frame, then closes with the code's close code. Idempotent. */
  fail (code: ErrorCode, message: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#failedLocally = true
    this.#closeCode ??= code
    this.#closeReason = message
    this.send({ type: 'error', code, message })
    this.#close(closeCodeFor(code), code)
  }

  /** Immediate teardown for a peer that stopped answering (no close handshake possible). */
  terminate (code: ErrorCode, message: string): void {
    if (this.#state === 'closed') return
    this.#failedLocally = true
    this.#closeCode ??= code
    this.#closeReason = message
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
      this.#failedLocally = true
      this.#closeCode ??= 'FRAME_TOO_LARGE'
    } else {
      this.#closeCode ??= 'SOCKET_ERROR'
    }
    this.#closeReason ||= err.message
    if (this.#state === 'handshake' || this.#state === 'established') this.#state = 'closing'
  }

  #onClose (code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#wsCode = code
    this.#closeCode ??= reason !== '' ? reason : `WS_${code}`
    clearTimeout(this.#handshakeTimer)
    clearTimeout(this.#killTimer)
    this.#on.onClosed(this)
    for (const fn of this.#closeWaiters.splice(0)) fn()
  }

  #onMessage (data: Buffer, isBinary: boolean): void {
    if (this.#state !== 'handshake' && this.#state !== 'established') return
    this.#lastHeard = performance.now()
    this.#silentTicks = 0
    this.#bytesReceived += data.length
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
      this.#closeCode = `PEER_${frame.code}`
      this.#closeReason = frame.message
      this.#close(closeCodeFor(frame.code), frame.code)
      return
    }
    if (this.#state === 'handshake') {
      const sample = this.#handshake.step(frame)
      if (sample !== undefined) this.#establish(sample)
      return
    }
    if (HANDSHAKE_FRAMES.has(frame.type)) throw new MarksyncError('UNEXPECTED_FRAME', `${frame.type} after the handshake`)
    if (frame.type === 'ping') {
      const t1 = this.#now()
      this.send({ type: 'pong', t0: frame.t0, t1, t2: this.#now() })
    } else if (frame.type === 'pong') {
      this.#on.onSample(this, clockSample(frame.t0, frame.t1, frame.t2, this.#now()))
    } else {
      this.#sink?.(frame, bytes)
    }
  }

  #establish (sample: ClockSample): void {
    clearTimeout(this.#handshakeTimer)
    this.#state = 'established'
    this.#establishedAt = Date.now()
    this.#on.onEstablished(this, sample)
  }
}

/** Closes with SHUTTING_DOWN; a peer that does not finish the close handshake within `graceMs` is cut off. */
export async function closeWithGrace (s: Session, graceMs: number): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => { s.terminate('SHUTTING_DOWN', 'stop'); resolve() }, graceMs)
    s.onClose(() => { clearTimeout(timer); resolve() })
    s.fail('SHUTTING_DOWN', 'the node is stopping')
  })
}
