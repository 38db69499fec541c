/**
 * Replication frames. One WebSocket binary message carries one msgpack map with a
 * `type` string; docs/protocol.md is the normative description of every field.
 * Integers are plain numbers here; the codec writes those above 2^32-1 as int64.
 */
import type { Change } from '../types.js'
import type { DigestFrame } from './digest-frames.js'

/**
 * Optional fields of `hello` and `welcome` (docs/protocol.md "Incarnations"): who the sender
 * is now, and what it knows of the receiver. A peer without them is trusted as in version 1
 * before incarnations: its cursors are never questioned.
 */
export interface IncarnationClaim {
  /** The sender's incarnation: 1..64 characters of `[A-Za-z0-9._-]` (marksync: 32 hex digits). */
  incarnation?: string
  /** The sender's last feed seq when it sent the frame. */
  seq?: number
  /** The receiver's incarnation as the sender last saw it; '' if it knows none. */
  peerIncarnation?: string
  /** The highest seq of the receiver's feed (under `peerIncarnation`) the sender acknowledged. */
  peerSeq?: number
}

/** Dialer → acceptor, first frame of a session. */
export interface HelloFrame extends IncarnationClaim {
  type: 'hello'
  /** Protocol versions the dialer speaks, any order; the acceptor picks one. */
  versions: number[]
  /** Cluster name; must equal the acceptor's. */
  cluster: string
  /** The dialer's node id; must be a configured peer of the acceptor. */
  node: string
  /** NONCE_BYTES random bytes (msgpack bin), fresh per session. */
  nonce: Uint8Array
  /** Dialer's wall clock when sending, ms since the epoch (t0 of the first clock sample). */
  time: number
}

/** Acceptor → dialer: the chosen version and the acceptor's proof of the secret. */
export interface WelcomeFrame extends IncarnationClaim {
  type: 'welcome'
  /** The protocol version chosen from the hello's `versions`. */
  version: number
  /** The acceptor's cluster name (equal to the dialer's). */
  cluster: string
  /** The acceptor's node id; the dialer checks it is the peer it meant to dial. */
  node: string
  /** NONCE_BYTES random bytes, fresh per session. */
  nonce: Uint8Array
  /** Acceptor's wall clock when sending, ms (t1 = t2 of the dialer's sample, t0 of its own). */
  time: number
  /** The hello's `time`, echoed (t0 of the dialer's sample). */
  echo: number
  /** HMAC-SHA256 proof of the acceptor (role `acceptor`), 32 bytes. */
  proof: Uint8Array
}

/** Dialer → acceptor: the dialer's proof; the session is established once it verifies. */
export interface AuthFrame {
  type: 'auth'
  /** HMAC-SHA256 proof of the dialer (role `dialer`), 32 bytes. */
  proof: Uint8Array
  /** Dialer's wall clock when sending, ms (t1 = t2 of the acceptor's sample). */
  time: number
  /** The welcome's `time`, echoed (t0 of the acceptor's sample). */
  echo: number
}

/** Either side, then close: why the session ends. */
export interface ErrorFrame {
  type: 'error'
  /** Stable uppercase code (docs/protocol.md "Error codes"). */
  code: string
  /** Human-readable detail; not for programs. */
  message: string
}

/** Heartbeat request carrying the sender's clock. */
export interface PingFrame {
  type: 'ping'
  /** Sender's wall clock when sending, ms. */
  t0: number
}

/** Heartbeat answer. */
export interface PongFrame {
  type: 'pong'
  /** The ping's `t0`, echoed. */
  t0: number
  /** Answerer's wall clock when the ping arrived, ms. */
  t1: number
  /** Answerer's wall clock when sending the pong, ms. */
  t2: number
}

/** Changes from the sender's feed. */
export interface BatchFrame {
  type: 'batch'
  /**
   * The sender's seq this batch continues from: the previous batch's `seq`, or the
   * sender's cursor for the receiver (its last acknowledged seq) on the first batch of a
   * session or after a resume. A receiver drops a batch that does not continue from
   * its last acknowledgement, so an acknowledgement always covers a gap-free range.
   */
  prev: number
  /** The `round` of the last `resume` received in this session (0 before any). */
  round: number
  /**
   * The sender's seq this batch brings the receiver up to: every feed entry with a
   * seq up to it, after the previous batch, is in `entries` or was left out because it
   * came from the receiver. Strictly increasing within a session.
   */
  seq: number
  /** The changes, in the sender's seq order (at most MAX_BATCH_ENTRIES). */
  entries: Change[]
  /**
   * Optional, true only on the first batch of a resend of left-out relays ("Relays"): its
   * `prev` is below the last acknowledged seq, and the receiver accepts the overlap.
   */
  resend?: boolean
}

/** Receiver → sender: the batch up to `seq` is durably applied. */
export interface AckFrame {
  type: 'ack'
  /** The acknowledged batch's `seq`. */
  seq: number
}

/** Receiver → sender: stop sending batches and state; unacknowledged ones were dropped. */
export interface HoldFrame {
  type: 'hold'
  /**
   * Why: `CLOCK_SKEW` (the sender's clock is ahead) or `FUTURE_TIMESTAMP` (its entries are
   * stamped ahead of the receiver's clock). A sender handles every reason the same way.
   */
  reason: string
  /** How far ahead, ms: the sender's clock offset, or the lead of its furthest stamp. */
  offset: number
  /** Optional: the receiver's clock (ms) at which the hold ends at the earliest, if it knows. */
  until?: number
}

/** Receiver → sender: send again, starting after the last acknowledged seq. */
export interface ResumeFrame {
  type: 'resume'
  /**
   * 1 for the first resume of a session, then 2, 3... The sender stamps its later batches
   * and chunks with it, so the receiver can drop those sent before the hold.
   */
  round: number
}

/** A chunk of a state transfer: current winners instead of the purged feed. */
export interface StateFrame {
  type: 'state'
  /** Chunk number within this transfer: 1, 2, 3... */
  chunk: number
  /** As in `batch`: the round of the last resume received. */
  round: number
  /** The sender's lastSeq when the transfer began; the feed resumes after it. */
  seq: number
  /** Winners, in (user, message) order (at most MAX_BATCH_ENTRIES). */
  entries: Change[]
  /** True on the last chunk. */
  done: boolean
}

/** Receiver → sender: the state chunk `chunk` is durably applied. */
export interface StateAckFrame {
  type: 'state-ack'
  /** The acknowledged chunk number. */
  chunk: number
}

/** One link of the sender: `[peer node id, up, have]` (see LinksFrame). */
export type LinkState = [string, boolean, number]

/**
 * Either side, after the handshake, whenever one of its links goes up or down and
 * every LINK_REPORT_MS while `have` moves: the state of its links to its own peers, so
 * a relay can leave out what the sender gets directly (docs/protocol.md "Relays").
 * Only on sessions of protocol version 2 or later, like the anti-entropy frames.
 */
export interface LinksFrame {
  type: 'links'
  /**
   * One per configured peer of the sender (at most MAX_REPORTED_LINKS): its id; whether
   * a session with it is established; `have`, the highest `ts` of that peer's own
   * changes (origin = that peer) the sender durably applied from that peer's batches
   * (0: none since it started).
   */
  peers: LinkState[]
}

export type Frame =
  | HelloFrame | WelcomeFrame | AuthFrame | ErrorFrame
  | PingFrame | PongFrame
  | BatchFrame | AckFrame | HoldFrame | ResumeFrame | StateFrame | StateAckFrame | LinksFrame
  | DigestFrame

export type FrameType = Frame['type']

/** Frames exchanged only during the handshake. */
export const HANDSHAKE_FRAMES: ReadonlySet<FrameType> = new Set(['hello', 'welcome', 'auth'])
