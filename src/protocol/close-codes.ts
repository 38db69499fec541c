/**
 * WebSocket close codes (RFC 6455 section 7.4) used by marksync, and which error code
 * closes with which. 1002/1007/1008/1009 are the standard codes; 4000-4999 are ours.
 */
export const CLOSE_NORMAL = 1000
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_PROTOCOL_ERROR = 1002
export const CLOSE_INVALID_DATA = 1007
export const CLOSE_POLICY = 1008
export const CLOSE_TOO_BIG = 1009
/** RFC 6455 "Try Again Later": refused for now by a per-peer budget, not for this frame. */
export const CLOSE_TRY_AGAIN_LATER = 1013
/** RFC 6455 "Service Restart": the node restarts its sessions (a new incarnation). */
export const CLOSE_SERVICE_RESTART = 1012
/** Another session between the same two nodes is kept; this one is redundant. */
export const CLOSE_DUPLICATE_SESSION = 4001
/** The peer sent nothing for HEARTBEAT_MISSES heartbeat intervals (used with terminate(), seen locally). */
export const CLOSE_HEARTBEAT_TIMEOUT = 4002

const CLOSE_FOR: Record<string, number> = {
  INVALID_FRAME: CLOSE_INVALID_DATA,
  INVALID_ENTRY: CLOSE_INVALID_DATA,
  UNKNOWN_FRAME: CLOSE_PROTOCOL_ERROR,
  UNEXPECTED_FRAME: CLOSE_PROTOCOL_ERROR,
  UNSUPPORTED_VERSION: CLOSE_PROTOCOL_ERROR,
  FRAME_TOO_LARGE: CLOSE_TOO_BIG,
  BATCH_TOO_LARGE: CLOSE_TOO_BIG,
  WRONG_CLUSTER: CLOSE_POLICY,
  UNKNOWN_PEER: CLOSE_POLICY,
  AUTH_FAILED: CLOSE_POLICY,
  NOT_AUTHENTICATED: CLOSE_POLICY,
  HANDSHAKE_TIMEOUT: CLOSE_POLICY,
  WINDOW_EXCEEDED: CLOSE_POLICY,
  // per-peer budgets (docs/security.md "Budgets")
  RATE_LIMITED: CLOSE_POLICY,
  SLOW_PEER: CLOSE_POLICY,
  BACKED_OFF: CLOSE_TRY_AGAIN_LATER,
  // this node's store cannot write (docs/storage.md "Store faults"): try again later
  DISK_FULL: CLOSE_TRY_AGAIN_LATER,
  STORE_UNAVAILABLE: CLOSE_TRY_AGAIN_LATER,
  UNKNOWN_ORIGIN: CLOSE_POLICY,
  // this node took a new incarnation (a restored copy): redial at once, nothing is wrong with the peer
  REINCARNATED: CLOSE_SERVICE_RESTART,
  DUPLICATE_SESSION: CLOSE_DUPLICATE_SESSION,
  HEARTBEAT_TIMEOUT: CLOSE_HEARTBEAT_TIMEOUT,
  SHUTTING_DOWN: CLOSE_GOING_AWAY
}

/** The close code for an error code; unknown codes are protocol errors. */
export function closeCodeFor (code: string): number {
  return CLOSE_FOR[code] ?? CLOSE_PROTOCOL_ERROR
}
