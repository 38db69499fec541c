/**
 * NTP-style clock offset from one request/response exchange (RFC 5905 section 8):
 * t0 request sent (our clock), t1 request received (peer), t2 response sent (peer),
 * t3 response received (ours). Offset = peer clock minus ours, round-trip corrected.
 */
export interface ClockSample {
  /** Peer clock minus our clock, ms. */
  offsetMs: number
  /** Round trip minus the peer's processing time, ms. */
  rttMs: number
}

export function clockSample (t0: number, t1: number, t2: number, t3: number): ClockSample {
  return { offsetMs: Math.round(((t1 - t0) + (t2 - t3)) / 2), rttMs: Math.max(0, (t3 - t0) - (t2 - t1)) }
}

export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2)
}

/**
 * Self-correction rule (docs/protocol.md "Clock skew"): with at least two connected
 * peers of which a strict majority are off by more than `maxSkewMs`, and those offsets
 * agree with each other within `maxSkewMs`, this node's clock is the odd one out: the
 * correction is their median. With at least one peer and no skewed majority it is 0
 * (the peers confirm the clock, also after a step the clock itself compensated).
 * Undefined means "not enough evidence either way, keep the current correction":
 * no peers, one skewed peer, or a skewed majority whose offsets disagree.
 */
export function correctionFor (offsets: readonly number[], maxSkewMs: number): number | undefined {
  if (offsets.length === 0) return undefined
  const off = offsets.filter(o => Math.abs(o) > maxSkewMs)
  if (off.length * 2 <= offsets.length) return 0
  if (offsets.length < 2) return undefined
  if (Math.max(...off) - Math.min(...off) > maxSkewMs) return undefined
  return median(off)
}
