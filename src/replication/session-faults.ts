import type { EmitEvent } from './api.js'
import { addressKey, peerKey, type PeerBudget } from './peer-budget.js'
import type { Session } from './session.js'

/** Close codes that end a session without the peer having misbehaved. */
const ORDINARY_CLOSES = new Set(['DUPLICATE_SESSION', 'SHUTTING_DOWN', 'REINCARNATED'])
/** Closes that do not count against a peer's budget: a lost network, or our own refusal. */
const NOT_FAULTS = new Set(['HEARTBEAT_TIMEOUT', 'BACKED_OFF', 'DISK_FULL', 'STORE_UNAVAILABLE'])

/** A close that says nothing bad about the peer (not kept as its last error). */
export function isOrdinaryClose (code: string): boolean {
  return ORDINARY_CLOSES.has(code)
}

/**
 * A closed session this side ended for cause is reported ('peer-rejected') and counted
 * against the peer's budget (docs/security.md "Budgets"); past it, the peer is refused
 * for a while ('BACKED_OFF').
 */
export function reportClose (s: Session, budget: PeerBudget, emit: EmitEvent): void {
  const code = s.closeCode ?? 'UNKNOWN'
  if (!s.failedLocally || ORDINARY_CLOSES.has(code)) return
  emit('peer-rejected', { peer: s.peer, remoteAddress: s.remoteAddress, code, reason: s.closeReason })
  const authenticated = s.establishedAt !== undefined
  // Before authentication only the address is known (a claimed id proves nothing);
  // a dialer's failed handshakes are already slowed by its redial backoff.
  if (NOT_FAULTS.has(code) || (!authenticated && s.role !== 'acceptor')) return
  const ms = budget.fault(authenticated ? peerKey(s.peer as string) : addressKey(s.remoteAddress))
  if (ms > 0) {
    emit('peer-rejected', { peer: authenticated ? s.peer : undefined, remoteAddress: s.remoteAddress, code: 'BACKED_OFF', reason: `refused for ${ms} ms after repeated faults` })
  }
}
