/**
 * What a PeerLink (peer-link.ts) needs from outside: the slice of the store, what it
 * reads of a session, and its options from the replicator. Types only, so that the
 * link's own file holds its behaviour.
 */
import type { PeerConfig } from '../contracts.js'
import type { DigestFrame } from '../protocol/digest-frames.js'
import type { StatusStore } from '../store/api.js'
import type { EmitEvent } from './api.js'
import type { Backoff } from './backoff.js'
import type { FrameChannel } from './channel.js'
import type { RecentSet } from './feed-receiver.js'
import type { Session } from './session.js'

/** The slice of the store a link uses: the feed's, and the clock to judge the peer's by. */
export type LinkStore = Pick<StatusStore, 'nodeId' | 'lastSeq' | 'oldestSeq' | 'feed' | 'isSuperseded' | 'winners' | 'getCursor' | 'setCursor' | 'applyRemote'> &
  Pick<StatusStore, 'incarnation' | 'getPeerRecord' | 'setPeerRecord'> & {
  readonly clock: { wallTime: () => number, readonly correctionMs: number }
}

/** What a link needs of a session: a channel for the feed, and what the status and the rules read. */
export type LinkSession = FrameChannel &
  Pick<Session, 'role' | 'dialer' | 'closeCode' | 'closeReason' | 'establishedAt' | 'bytesSent' | 'bytesReceived' | 'deliverTo'> &
  { readonly version?: number } & Partial<Pick<Session, 'peerClaim'>>

export interface PeerLinkInit {
  store: LinkStore
  peer: PeerConfig
  batchEntries: number
  batchBytes: number
  window: number
  maxClockSkewMs: number
  /** A session that lived longer than this (ms) was healthy: the redial backoff starts over. */
  healthyAfterMs: number
  /** Changes this node entered lately; arriving again, they are dropped before the store. */
  recent: RecentSet
  /** Nodes the peer shares a link with in the mesh (this node excluded): relays of theirs are left out. */
  peerLinkedTo?: ReadonlySet<string>
  emit: EmitEvent
  /** Opens a dialing session to `url`; throws for an unusable URL. */
  dial: (url: string) => void
  backoff?: Backoff
  /** Anti-entropy with this peer (anti-entropy.ts), on sessions of protocol version 2. */
  digests?: {
    attach: (session: LinkSession, version: number) => void
    detach: () => void
    onFrame: (frame: DigestFrame, bytes: number) => void
  }
  /** The nodes and retired hosts of the mesh: the only valid origins (none: any). */
  members?: ReadonlySet<string>
  /** The peer acknowledged more of our feed than we hold: this store is an older copy. */
  onRestoredCopy?: () => void
}
