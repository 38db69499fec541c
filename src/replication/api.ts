import type { EventEmitter } from 'node:events'
import type { StatusStore } from '../store/api.js'
import type { PeerBudgetOptions } from './peer-budget.js'

/** A configured peer of this node. */
export interface PeerConfig {
  /** The peer's node id. */
  id: string
  /** Where the peer accepts replication sessions: `ws://host:port` or `wss://host:port`. */
  url: string
}

export interface TlsFiles {
  /** PEM contents (not paths): the cluster CA, this node's certificate and key. */
  ca?: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
}

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
  tls?: TlsFiles
  heartbeatMs?: number
  maxClockSkewMs?: number
  batchEntries?: number
  batchBytes?: number
  /** Unacknowledged batches in flight per peer. */
  window?: number
  /** Coalescing delay before pushing fresh entries, in ms. */
  pushDelayMs?: number
  /** Time a handshake may take before the socket is closed, in ms. */
  handshakeTimeoutMs?: number
  /** Per-peer budgets (docs/security.md "Budgets"); each field defaults to its limit in limits.ts. */
  budget?: Partial<PeerBudgetOptions>
}

export interface PeerStatus {
  id: string
  url: string
  connected: boolean
  /** ms since the epoch when the current session (or the last disconnect) began; null if never. */
  since: number | null
  /** Last local seq the peer acknowledged. */
  cursor: number
  /** Local entries the peer has not acknowledged yet (lastSeq - cursor, not counting its own). */
  behind: number
  lastAckAt: number | null
  /** Estimated peer clock minus our clock, in ms; null until measured. */
  clockOffsetMs: number | null
  skewed: boolean
  /** The peer refuses our batches for now (it sent a hold: our clock is ahead of it). */
  held: boolean
  /** We refuse the peer's batches for now (its clock is ahead of ours beyond maxClockSkew). */
  holding: boolean
  /** Why the last session with this peer ended abnormally, or a dial failed; null if never. */
  lastError: { code: string, reason: string, at: number } | null
  batchesSent: number
  batchesReceived: number
  entriesEntered: number
  entriesStale: number
  entriesDuplicate: number
  bytesSent: number
  bytesReceived: number
  stateTransfers: number
}

/**
 * Events (the daemon logs them and feeds metrics):
 * - 'peer-connected' { peer }, 'peer-disconnected' { peer, code, reason }
 * - 'peer-rejected' { peer?, remoteAddress, code, reason } a session refused in the handshake or closed for bad input
 * - 'peer-skewed' { peer, offsetMs }, 'peer-clock-ok' { peer, offsetMs }
 * - 'batch-applied' { peer, entered, stale, duplicate, bytes, lagMs? }
 * - 'state-transfer' { peer, direction: 'send'|'receive', phase: 'start'|'end', entries? }
 * - 'clock-jump' { fromMs, toMs } this node's own wall clock jumped
 * - 'clock-corrected' { correctionMs, offsets } peers agree this node's clock is off (or agree again: 0)
 * - 'error' is never emitted for peer faults (they close that session only).
 */
export interface ReplicatorApi extends EventEmitter {
  start (): Promise<void>
  /** Idempotent: closes every session and the listener, clears every timer. */
  stop (): Promise<void>
  /** The port actually listened on. */
  readonly port: number
  /** What this node adds to its wall clock when stamping local changes, in ms (0: none). */
  readonly clockCorrectionMs: number
  status (): PeerStatus[]
}
