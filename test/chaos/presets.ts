import type { ChaosOptions } from './harness.js'

/** Settings of a schedule, without the seed. */
export type Preset = Omit<ChaosOptions, 'seed' | 'log' | 'signal'>

/**
 * The short schedule of `npm test`: under 2 minutes in all, at least 20 faults, of which at
 * least 3 SIGKILLs, a partition, a clock skew of minutes, one outage past retention, one data
 * directory wiped and one restored from an older copy.
 */
export const SHORT: Preset = {
  nodes: 5,
  faultPhaseMs: 55_000,
  faults: 24,
  minKills: 3,
  minPartitions: 1,
  skews: 1,
  longDowns: 1,
  wipes: 1,
  restores: 1,
  convergeTimeoutMs: 30_000
}

/** The long schedule of `npm run chaos`: 10 minutes of faults, hundreds of them. */
export const LONG: Preset = {
  nodes: 5,
  faultPhaseMs: 600_000,
  faults: 320,
  minKills: 40,
  minPartitions: 12,
  skews: 6,
  longDowns: 4,
  wipes: 4,
  restores: 4,
  convergeTimeoutMs: 120_000
}
