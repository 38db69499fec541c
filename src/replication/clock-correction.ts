/**
 * Self-correction of this node's clock from its peers' measured offsets
 * (docs/protocol.md "Clock skew"): the mesh as a whole, so the replicator's, but a job
 * of its own.
 */
import type { HybridClock } from '../hlc.js'
import type { EmitEvent } from './api.js'
import { correctionFor } from './clock-sample.js'
import type { PeerLink } from './peer-link.js'

/** A correction change smaller than this is applied silently, without an event, in ms. */
const CORRECTION_EVENT_MS = 1_000

/** What the correction reads of, and asks of, each link. */
export type ClockedLink = Pick<PeerLink, 'session' | 'offsetMs' | 'evaluateClock'>

/** Sets the clock's correction from the offsets of the connected peers; emits 'clock-corrected' on a notable change. */
export function correctClock (links: readonly ClockedLink[], clock: Pick<HybridClock, 'correctionMs' | 'setCorrection'>, maxClockSkewMs: number, emit: EmitEvent): void {
  const offsets: number[] = []
  for (const link of links) {
    if (link.session !== undefined && link.offsetMs !== null) offsets.push(link.offsetMs)
  }
  const next = correctionFor(offsets, maxClockSkewMs)
  const current = clock.correctionMs
  if (next === undefined) return
  if (next !== current) applyCorrection(links, clock, next, current, offsets, emit)
  emit('clock-checked', { correctionMs: next })
}

function applyCorrection (links: readonly ClockedLink[], clock: Pick<HybridClock, 'setCorrection'>, next: number, current: number, offsets: number[], emit: EmitEvent): void {
  clock.setCorrection(next)
  // Peers are judged against the corrected clock (peer-link.ts evaluateClock): judge them again.
  for (const link of links) link.evaluateClock()
  if (next === 0 || current === 0 || Math.abs(next - current) > CORRECTION_EVENT_MS) {
    emit('clock-corrected', { correctionMs: next, offsets })
  }
}
