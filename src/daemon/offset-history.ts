/**
 * The clock offsets this node measured to each peer over time, in memory, so `explain`
 * can say what a change's origin clock was off by when the change arrived (a change that
 * waited in a feed cannot tell it by its own times). A sample is kept when the offset
 * moved by OFFSET_SAMPLE_DELTA_MS or the last one is OFFSET_SAMPLE_MAX_AGE_MS old; at most
 * MAX_OFFSET_SAMPLES per peer (the oldest go first). Lost on restart.
 */
import { MAX_OFFSET_SAMPLES, OFFSET_SAMPLE_DELTA_MS, OFFSET_SAMPLE_MAX_AGE_MS } from '../limits.js'
import type { PeerStatus } from '../replication/api.js'

interface Sample { at: number, offsetMs: number }

export class OffsetHistory {
  readonly #peers = new Map<string, Sample[]>()

  record (peers: PeerStatus[], now: number): void {
    for (const p of peers) {
      if (!p.connected || p.clockOffsetMs === null) continue
      let samples = this.#peers.get(p.id)
      if (samples === undefined) this.#peers.set(p.id, samples = [])
      const last = samples[samples.length - 1]
      if (last !== undefined && Math.abs(last.offsetMs - p.clockOffsetMs) < OFFSET_SAMPLE_DELTA_MS && now - last.at < OFFSET_SAMPLE_MAX_AGE_MS) continue
      samples.push({ at: now, offsetMs: p.clockOffsetMs })
      if (samples.length > MAX_OFFSET_SAMPLES) samples.shift()
    }
  }

  /** The offset (peer clock minus ours, ms) measured nearest to `time`, within OFFSET_SAMPLE_MAX_AGE_MS; null if none. */
  at (peer: string, time: number): number | null {
    let best: Sample | undefined
    for (const s of this.#peers.get(peer) ?? []) {
      if (best === undefined || Math.abs(s.at - time) < Math.abs(best.at - time)) best = s
    }
    return best === undefined || Math.abs(best.at - time) > OFFSET_SAMPLE_MAX_AGE_MS ? null : best.offsetMs
  }
}
