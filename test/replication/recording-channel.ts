/**
 * A FrameChannel without a socket, for the unit tests of the feed's two halves and the
 * peer link: it records every frame sent and the failure, and lets the test set the
 * socket buffer's fill. Write callbacks run on the next turn, as ws runs them.
 */
import type { ErrorCode } from '../../src/errors.js'
import type { Frame } from '../../src/protocol/index.js'
import type { FrameChannel } from '../../src/replication/channel.js'

export class RecordingChannel implements FrameChannel {
  readonly frames: Frame[] = []
  /** When each frame was sent (`performance.now()`), in the same order. */
  readonly sentAt: number[] = []
  failure: { code: ErrorCode, message: string } | undefined
  established = true
  bufferedAmount = 0

  send (frame: Frame, done?: () => void): void {
    if (this.failure !== undefined) return
    this.frames.push(frame)
    this.sentAt.push(performance.now())
    if (done !== undefined) setImmediate(done)
  }

  fail (code: ErrorCode, message: string): void {
    this.failure ??= { code, message }
    this.established = false
  }

  /** The frames of one type, in the order sent. */
  sent<K extends Frame['type']> (type: K): Array<Extract<Frame, { type: K }>> {
    return this.frames.filter((f): f is Extract<Frame, { type: K }> => f.type === type)
  }
}

/** A session as a peer link sees it: the channel, plus what the link reads and the frames it is handed. */
export class RecordingSession extends RecordingChannel {
  readonly role: 'dialer' | 'acceptor'
  readonly dialer: string | undefined
  closeCode: string | undefined
  closeReason = ''
  establishedAt: number | undefined = Date.now()
  bytesSent = 0
  bytesReceived = 0
  #sink: ((frame: Frame, bytes: number) => void) | undefined

  constructor (role: 'dialer' | 'acceptor' = 'dialer', dialer = 'a') {
    super()
    this.role = role
    this.dialer = dialer
  }

  deliverTo (sink: (frame: Frame, bytes: number) => void): void {
    this.#sink = sink
  }

  /** A frame arrives from the peer (what the session hands its link after decoding). */
  deliver (frame: Frame, bytes = 100): void {
    this.#sink?.(frame, bytes)
  }
}
