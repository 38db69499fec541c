import type { ErrorCode } from '../errors.js'
import type { Frame } from '../protocol/index.js'

/**
 * What the two halves of the feed need of a session: a way to send, the send buffer's
 * fill, and closing it for a protocol error. `Session` is one; unit tests use a list.
 */
export interface FrameChannel {
  /** The handshake is done and the socket open. */
  readonly established: boolean
  /** Bytes queued in the socket, not yet written. */
  readonly bufferedAmount: number
  /** Sends; `done` runs once the bytes are handed to the OS. */
  send: (frame: Frame, done?: () => void) => unknown
  /** Sends an error frame and closes the channel. */
  fail: (code: ErrorCode, message: string) => void
}
