/**
 * Contract types shared by every layer: the configuration a node is given, the status it
 * reports, and the JSON bodies of its HTTP API (docs/operations.md "HTTP API"). They depend
 * on nothing but src/types.ts, so config, the API and the CLI need not import the engine.
 */
import type { LogEntry, MessageState } from './types.js'

/** How writes reach the disk: `sync` fsyncs before a write resolves, `relaxed` does not. */
export type Durability = 'sync' | 'relaxed'

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

/** A hold of a peer's batches (docs/protocol.md "Clock skew"). */
export interface PeerHold {
  /** `CLOCK_SKEW`: its clock is ahead; `FUTURE_TIMESTAMP`: it sent entries stamped ahead of ours. */
  reason: 'CLOCK_SKEW' | 'FUTURE_TIMESTAMP'
  /** When the hold began, ms (this node's clock). */
  since: number
  /** By how much the peer's clock, or its furthest stamp, is ahead of ours, ms. */
  aheadMs: number
  /** The earliest time (ms, this node's clock) the hold can end; null: when a heartbeat measures its clock sane. */
  until: number | null
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
  /** When an ack last moved the cursor; on an idle link this ages while nothing is owed (see lagMs). */
  lastAckAt: number | null
  /** Estimated peer clock minus our clock, in ms; null until measured. */
  clockOffsetMs: number | null
  skewed: boolean
  /** The peer refuses our batches for now (it sent a hold: our clock is ahead of it). */
  held: boolean
  /** We refuse the peer's batches for now (its clock or its stamps are ahead of ours beyond maxClockSkew). */
  holding: boolean
  /** Why we hold the peer, since when, by how much, and the earliest end; null when we do not. */
  hold: PeerHold | null
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

export interface PurgeResult {
  /** Log entries removed (feed entries and their per-user log entries). */
  removed: number
  /** Lowest seq still in the feed after the purge (lastSeq + 1 when the feed is empty). */
  oldestSeq: number
}

// ---- HTTP API bodies (docs/operations.md "HTTP API") ----

/** GET /v1/health */
export interface HealthResponse { ok: boolean, node: string, store: StoreHealth }

/** Whether the store can write: `ok`, or `failing` with why (docs/operations.md "Store faults"). */
export type StoreHealth =
  | { state: 'ok' }
  | { state: 'failing', code: string, reason: string, since: number, attempts: number }

/** POST /v1/changes: the entries made, with their seq. */
export interface ChangesResponse { entries: LogEntry[] }

/** GET /v1/users/:user/unread; `next` is the `after` of the next page. */
export interface UnreadResponse { user: string, count: number, messages: string[], next: string | null }

/** GET /v1/users/:user/unread/count */
export interface UnreadCountResponse { user: string, count: number }

/** GET /v1/users/:user/messages/:message */
export type MessageResponse = MessageState

/** GET /v1/users/:user/log */
export interface LogResponse { entries: LogEntry[], next: number | null }

/** GET /v1/winners */
export interface WinnersResponse { winners: MessageState[], next: { user: string, message: string } | null }

/** GET /v1/status */
export interface NodeStatusResponse {
  node: string
  /** This incarnation of the node (docs/storage.md "Incarnation"). */
  incarnation: string
  store: StoreHealth
  cluster: string
  seq: number
  oldestSeq: number
  hlc: number
  hlcPhysicalMs: number
  wallTime: number
  clockCorrectionMs: number
  durability: Durability
  retentionMs: number
  peers: PeerStatus[]
}

/** POST /v1/purge */
export type PurgeResponse = PurgeResult
