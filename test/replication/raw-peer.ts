/**
 * A hand-driven peer over a raw `ws` client, for tests that must misbehave: it sends
 * exactly the bytes a test gives it and records every frame and the close it gets.
 */
import { WebSocket } from 'ws'
import { computeProof, decodeFrame, encodeFrame, newNonce, type Frame, type WelcomeFrame } from '../../src/protocol/index.js'
import { CLUSTER, SECRET } from './helpers.js'
import { waitFor } from '../helpers/wait.js'

export interface Closed { code: number, reason: string }

export class RawPeer {
  readonly frames: Frame[] = []
  closed: Closed | undefined
  /** Answer pings (an honest peer does). */
  answerPings = true
  /** Added to the clock readings in pongs, ms: a peer whose clock is off. */
  clockOffsetMs = 0
  /** Pings received so far. */
  pings = 0

  private constructor (readonly ws: WebSocket) {
    ws.on('error', () => {})
    ws.on('message', (data: Buffer) => {
      let frame: Frame
      try {
        frame = decodeFrame(data)
      } catch {
        return
      }
      this.frames.push(frame)
      if (frame.type === 'ping') this.pings++
      if (frame.type === 'ping' && this.answerPings) {
        const now = Date.now() + this.clockOffsetMs
        this.send({ type: 'pong', t0: frame.t0, t1: now, t2: now })
      }
    })
    ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() } })
  }

  static async connect (port: number): Promise<RawPeer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024 })
    const peer = new RawPeer(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return peer
  }

  send (frame: Frame | Buffer): void {
    this.ws.send(Buffer.isBuffer(frame) ? frame : encodeFrame(frame), { binary: true })
  }

  async next<T extends Frame['type']> (type: T, timeoutMs = 5_000): Promise<Extract<Frame, { type: T }>> {
    return await waitFor(() => {
      const i = this.frames.findIndex(f => f.type === type)
      return i < 0 ? undefined : this.frames.splice(i, 1)[0] as Extract<Frame, { type: T }>
    }, { timeoutMs, what: `a ${type} frame` })
  }

  async waitClosed (timeoutMs = 5_000): Promise<Closed> {
    return await waitFor(() => this.closed, { timeoutMs, what: 'the close' })
  }

  errorCode (): string | undefined {
    const e = this.frames.find(f => f.type === 'error')
    return e?.type === 'error' ? e.code : undefined
  }

  /** Dialer side of the handshake (offering version 1 unless told); `secret` may be wrong on purpose. */
  async handshake (node: string, acceptor: string, options: { secret?: Buffer, cluster?: string, versions?: number[] } = {}): Promise<WelcomeFrame> {
    const nonce = newNonce()
    const cluster = options.cluster ?? CLUSTER
    this.send({ type: 'hello', versions: options.versions ?? [1], cluster, node, nonce, time: Date.now() })
    const welcome = await this.next('welcome')
    const proof = computeProof(options.secret ?? SECRET, {
      role: 'dialer', version: welcome.version, cluster, dialer: node, acceptor, dialerNonce: nonce, acceptorNonce: welcome.nonce
    })
    this.send({ type: 'auth', proof, time: Date.now(), echo: welcome.time })
    return welcome
  }

  close (): void {
    this.ws.terminate()
  }
}
