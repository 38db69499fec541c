import type { EventEmitter } from 'node:events'
import type { ClockStep } from '../hlc.js'
import type { StatusStore } from '../store/api.js'
import type { PeerConfig, PeerStatus, TlsFiles, PeerHold } from '../contracts.js'
import type { PeerBudgetOptions } from './peer-budget.js'
import type { RoundResult } from './digest-exchange.js'
import type { AntiEntropyStatus, RepairOutcome } from './anti-entropy.js'

export type { PeerConfig, PeerStatus, TlsFiles }

export interface ReplicatorOptions {
  store: StatusStore
  cluster: string
  nodeId: string
  /** Shared cluster secret; never sent on the wire. */
  secret: Buffer
  /** Further secrets accepted in peers' proofs while the secret is rotated (docs/security.md); none by default. */
  acceptSecrets?: Buffer[]
  /** Where to accept peers. Port 0 picks a free port (see `Replicator.port`). */
  listen: { host: string, port: number }
  peers: PeerConfig[]
  /**
   * Every link of the mesh (the mesh file's, the same on every host). With it, this node
   * reports its links to its peers and leaves out relays a peer gets from their origin
   * directly (docs/protocol.md "Relays"); without it, every entry is relayed.
   */
  links?: Array<readonly [string, string]>
  tls?: TlsFiles
  heartbeatMs?: number
  maxClockSkewMs?: number
  batchEntries?: number
  batchBytes?: number
  /** Unacknowledged batches in flight per peer. */
  window?: number
  /** Coalescing delay before pushing fresh entries, in ms; 0 (the default): the next turn of the event loop. */
  pushDelayMs?: number
  /** Time a handshake may take before the socket is closed, in ms. */
  handshakeTimeoutMs?: number
  /** Per-peer budgets (docs/security.md "Budgets"); each field defaults to its limit in limits.ts. */
  budget?: Partial<PeerBudgetOptions>
  /** Time between two anti-entropy rounds with each peer, in ms; 0: only on demand (`repair`). */
  antiEntropyIntervalMs?: number
  /**
   * Every valid origin of a change: the mesh's nodes and retired hosts (docs/protocol.md
   * "Origins"); a frame carrying another origin is refused with UNKNOWN_ORIGIN. Undefined accepts any.
   */
  members?: Iterable<string>
}

/** A session refused in the handshake or closed for bad input (`peer` once it is known). */
export interface PeerRejectedEvent {
  peer: string | undefined
  remoteAddress: string
  code: string
  reason: string
}

export interface BatchAppliedEvent {
  peer: string
  entered: number
  stale: number
  duplicate: number
  /** Bytes of the frame on the wire. */
  bytes: number
  /** Largest origin-to-here delay of an entry this peer made itself, in ms. */
  lagMs: number | undefined
}

export interface StateTransferEvent {
  peer: string
  direction: 'send' | 'receive'
  phase: 'start' | 'end'
  /** Chunks sent (the sender's end only). */
  entries?: number
}

/**
 * Events (the daemon logs them and feeds metrics). 'error' is never emitted for peer
 * faults (they close that session only).
 */
export interface ReplicatorEvents {
  'peer-connected': [event: { peer: string }]
  'peer-disconnected': [event: { peer: string, code: string, reason: string }]
  'peer-rejected': [event: PeerRejectedEvent]
  'peer-skewed': [event: { peer: string, offsetMs: number }]
  'peer-clock-ok': [event: { peer: string, offsetMs: number }]
  'batch-applied': [event: BatchAppliedEvent]
  'state-transfer': [event: StateTransferEvent]
  /** This node's own wall clock jumped. */
  'clock-jump': [event: ClockStep]
  /** Peers agree this node's clock is off (or agree again: 0). */
  'clock-corrected': [event: { correctionMs: number, offsets: number[] }]
  /** The connected peers gave a verdict on this node's clock (correction 0: confirmed); at every check that has one. */
  'clock-checked': [event: { correctionMs: number }]
  /** An anti-entropy round this node ran (docs/protocol.md §7a). */
  'anti-entropy-round': [event: RoundResult]
  'anti-entropy-failed': [event: { peer: string, reason: string }]
  /** This node holds the peer's batches (docs/protocol.md "Clock skew"): why, since, by how much, earliest end. */
  'peer-held': [event: { peer: string } & PeerHold]
  /** The peer lost state (a new incarnation, or its feed is behind what we acknowledged): it gets the whole state. */
  'peer-reborn': [event: { peer: string, verdict: 'new-incarnation' | 'behind', incarnation?: string, seq?: number }]
  /** A peer acknowledged more of our feed than we hold: this data directory is an older copy. */
  'restored-copy': [event: { peer: string, peerSeq?: number, lastSeq: number }]
  /** This node took a new incarnation (after 'restored-copy') and restarts its sessions. */
  reincarnated: [event: { incarnation: string }]
  error: [err: Error]
}

/** How a part of the engine reports an event through the replicator. */
export type EmitEvent = <K extends keyof ReplicatorEvents>(event: K, ...args: ReplicatorEvents[K]) => void

export interface ReplicatorApi extends EventEmitter<ReplicatorEvents> {
  start (): Promise<void>
  /** Idempotent: closes every session and the listener, clears every timer. */
  stop (): Promise<void>
  /** The port actually listened on. */
  readonly port: number
  /** What this node adds to its wall clock when stamping local changes, in ms (0: none). */
  readonly clockCorrectionMs: number
  status (): PeerStatus[]
  /** Anti-entropy counters (docs/operations.md "Anti-entropy"). */
  antiEntropyStatus: () => AntiEntropyStatus
  /** Anti-entropy rounds now with `peer` (or every peer), for `user` only if given. */
  repair: (options?: { peer?: string, user?: string }) => Promise<RepairOutcome[]>
}
