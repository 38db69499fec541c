import type { EventEmitter } from 'node:events'
import type { StatusStore } from '../store/api.js'
import type { PeerConfig, PeerStatus, TlsFiles } from '../contracts.js'
import type { PeerBudgetOptions } from './peer-budget.js'

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
