/**
 * The one-session-per-pair rule: when both ends of a pair dialed and both sessions were
 * established, each end keeps the session dialed by the lower node id (or, between two
 * sessions dialed by the same node, the newer) and closes the other with
 * DUPLICATE_SESSION. Both ends compute the same answer from the same facts, so exactly
 * one session survives whatever the timing.
 */
import type { Session } from './session.js'

/** Whether `candidate` replaces `current` (both with the same peer) on the node `nodeId`. */
export function prefersCandidate (nodeId: string, candidate: Pick<Session, 'peer' | 'dialer'>, current: Pick<Session, 'dialer'>): boolean {
  const lower = nodeId < (candidate.peer as string) ? nodeId : candidate.peer
  const candidateLow = candidate.dialer === lower
  const currentLow = current.dialer === lower
  return candidateLow === currentLow ? true : candidateLow
}
