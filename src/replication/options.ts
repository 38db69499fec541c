import {
  DEFAULT_ANTI_ENTROPY_INTERVAL_MS, DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ENTRIES, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_PUSH_DELAY_MS, DEFAULT_WINDOW, MAX_BATCH_ENTRIES, MAX_FRAME_BYTES, MAX_WINDOW
} from '../limits.js'
import { checkNodeId } from '../validate.js'
import { checkCluster } from '../protocol/index.js'
import type { ReplicatorOptions } from './api.js'

/** Room left in a frame for everything but the entries, in bytes. */
const FRAME_OVERHEAD_BYTES = 1024

/** The options with every default filled in and every size clamped to what peers accept. */
export type ResolvedOptions = Required<Omit<ReplicatorOptions, 'tls' | 'budget' | 'acceptSecrets' | 'links' | 'members'>> & Pick<ReplicatorOptions, 'tls'>

/** Checks the ids (a bad one throws INVALID_CONFIG; a peer that is this node, or twice, a TypeError). */
export function resolveOptions (options: ReplicatorOptions): ResolvedOptions {
  checkNodeId(options.nodeId, 'INVALID_CONFIG')
  checkCluster(options.cluster)
  const o: ResolvedOptions = {
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
    batchEntries: DEFAULT_BATCH_ENTRIES,
    batchBytes: DEFAULT_BATCH_BYTES,
    window: DEFAULT_WINDOW,
    pushDelayMs: DEFAULT_PUSH_DELAY_MS,
    handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
    antiEntropyIntervalMs: DEFAULT_ANTI_ENTROPY_INTERVAL_MS,
    ...dropUndefined(options)
  }
  // Never build a frame the peer must refuse, nor a window its queue cannot hold.
  o.batchEntries = clamp(o.batchEntries, 1, MAX_BATCH_ENTRIES)
  o.batchBytes = clamp(o.batchBytes, 1, MAX_FRAME_BYTES - FRAME_OVERHEAD_BYTES)
  o.window = clamp(o.window, 1, MAX_WINDOW / 2)
  const seen = new Set<string>()
  for (const peer of options.peers) {
    checkNodeId(peer.id, 'INVALID_CONFIG')
    if (peer.id === options.nodeId) throw new TypeError(`peer ${peer.id} is this node`)
    if (seen.has(peer.id)) throw new TypeError(`peer ${peer.id} is listed twice`)
    seen.add(peer.id)
  }
  return o
}

function clamp (n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(n)))
}

function dropUndefined<T extends object> (o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
