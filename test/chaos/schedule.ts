import { Prng } from '../helpers/prng.js'

/**
 * The fault schedule of a chaos run: a pure function of the seed and the options, so a
 * printed seed replays the same faults at the same offsets.
 *
 * Kinds (each has a start and an end action, run by the harness):
 * - `kill`      SIGKILL a node, restart it on the same data dir after `durationMs`;
 * - `longdown`  the same, but down past the retention horizon so it must catch up by state transfer;
 * - `pause`     SIGSTOP a node, SIGCONT it after `durationMs`;
 * - `cut`       break both directions of one link, heal it after `durationMs`;
 * - `partition` cut every link between two groups of nodes, heal them after `durationMs`;
 * - `delay`     add `delayMs` of latency to both directions of one link;
 * - `skew`      set a node's clock offset to `offsetMs` (minutes), put it back to 0 after `durationMs`;
 * - `wipe`      SIGKILL a node and delete its data directory (a lost disk), start it on an empty one
 *               after `durationMs`;
 * - `restore`   stop a node, copy its data directory, start it; after `durationMs` SIGKILL it, put the
 *               copy back (a backup restored) and start it.
 */
export type FaultKind = 'kill' | 'longdown' | 'pause' | 'cut' | 'partition' | 'delay' | 'skew' | 'wipe' | 'restore'
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'longdown', 'pause', 'cut', 'partition', 'delay', 'skew', 'wipe', 'restore']

export type Link = readonly [string, string]

export interface Fault {
  /** Position in the schedule, from 0. */
  index: number
  kind: FaultKind
  /** Start, in ms after the fault phase began. */
  at: number
  durationMs: number
  /** kill, longdown, pause, skew. */
  node?: string
  /** cut, delay. */
  link?: Link
  /** partition: the two sides. */
  groups?: readonly [readonly string[], readonly string[]]
  /** skew: clock offset in ms. */
  offsetMs?: number
  /** delay: one-way latency in ms. */
  delayMs?: number
}

export interface ScheduleOptions {
  seed: number
  nodes: readonly string[]
  links: readonly Link[]
  /** Length of the fault phase, in ms; every fault ends by then. */
  durationMs: number
  /** Faults to place in all (the required ones count). */
  faults: number
  minKills: number
  minPartitions: number
  skews: number
  longDowns: number
  /** Data directories deleted, and older copies restored (0 if absent). */
  wipes?: number
  restores?: number
  /** How long a `longdown` keeps its node down, in ms (longer than retention + purge interval). */
  longDownMs: number
  /** Most nodes down or paused at the same time. */
  maxDown: number
  /** Quiet time kept after a node comes back before another fault may touch it, in ms. */
  settleMs?: number
}

/** Duration ranges per kind, in ms: [min, max]. */
const DURATIONS: Record<Exclude<FaultKind, 'longdown'>, readonly [number, number]> = {
  kill: [1_000, 6_000],
  pause: [1_000, 5_000],
  cut: [1_000, 8_000],
  partition: [4_000, 10_000],
  delay: [2_000, 8_000],
  skew: [6_000, 10_000],
  wipe: [1_000, 6_000],
  // Long enough for the node to acknowledge changes that the restore then takes away.
  restore: [6_000, 15_000]
}
/** Random fill picks kinds with these weights (longdown and skew only where required). */
const FILL_WEIGHTS: ReadonlyArray<readonly [FaultKind, number]> = [
  ['kill', 3], ['pause', 2], ['cut', 3], ['partition', 1], ['delay', 2]
]
const SKEW_MINUTES: readonly [number, number] = [2, 10]
const DELAY_MS: readonly [number, number] = [20, 300]
/** Attempts to place one fault before giving up on it. */
const MAX_PLACEMENT_TRIES = 200
const DEFAULT_SETTLE_MS = 1_500

const DOWN_KINDS: ReadonlySet<FaultKind> = new Set(['kill', 'longdown', 'pause', 'wipe'])
const NODE_KINDS: ReadonlySet<FaultKind> = new Set(['kill', 'longdown', 'pause', 'skew', 'wipe', 'restore'])

export function generateSchedule (options: ScheduleOptions): Fault[] {
  const rng = new Prng(options.seed)
  const settle = options.settleMs ?? DEFAULT_SETTLE_MS
  const placed: Fault[] = []
  const required: FaultKind[] = [
    ...Array<FaultKind>(options.longDowns).fill('longdown'),
    ...Array<FaultKind>(options.skews).fill('skew'),
    ...Array<FaultKind>(options.wipes ?? 0).fill('wipe'),
    ...Array<FaultKind>(options.restores ?? 0).fill('restore'),
    ...Array<FaultKind>(options.minPartitions).fill('partition'),
    ...Array<FaultKind>(options.minKills).fill('kill')
  ]
  for (const kind of required) {
    const fault = place(kind, rng, options, placed, settle)
    if (fault === undefined) throw new Error(`schedule: no room for a required '${kind}' fault; lengthen the schedule`)
    placed.push(fault)
  }
  for (let tries = 0; placed.length < options.faults && tries < options.faults * 4; tries++) {
    const fault = place(weighted(rng), rng, options, placed, settle)
    if (fault !== undefined) placed.push(fault)
  }
  placed.sort((x, y) => x.at - y.at || FAULT_KINDS.indexOf(x.kind) - FAULT_KINDS.indexOf(y.kind))
  return placed.map((fault, index) => ({ ...fault, index }))
}

function weighted (rng: Prng): FaultKind {
  const total = FILL_WEIGHTS.reduce((sum, [, w]) => sum + w, 0)
  let roll = rng.next() * total
  for (const [kind, w] of FILL_WEIGHTS) {
    roll -= w
    if (roll < 0) return kind
  }
  return 'kill'
}

function place (kind: FaultKind, rng: Prng, options: ScheduleOptions, placed: Fault[], settle: number): Fault | undefined {
  for (let i = 0; i < MAX_PLACEMENT_TRIES; i++) {
    const durationMs = kind === 'longdown' ? options.longDownMs : rng.int(...DURATIONS[kind])
    const latest = options.durationMs - durationMs - settle
    if (latest < 0) return undefined
    const fault: Fault = { index: -1, kind, at: rng.int(0, latest), durationMs }
    if (NODE_KINDS.has(kind)) fault.node = rng.pick(options.nodes)
    if (kind === 'cut' || kind === 'delay') {
      if (options.links.length === 0) return undefined
      fault.link = rng.pick(options.links)
    }
    if (kind === 'partition') {
      if (options.nodes.length < 2) return undefined
      const shuffled = rng.shuffle(options.nodes)
      const split = rng.int(1, Math.floor(shuffled.length / 2))
      fault.groups = [shuffled.slice(0, split).sort(), shuffled.slice(split).sort()]
    }
    if (kind === 'skew') fault.offsetMs = (rng.chance(0.75) ? 1 : -1) * rng.int(...SKEW_MINUTES) * 60_000
    if (kind === 'delay') fault.delayMs = rng.int(...DELAY_MS)
    if (fits(fault, placed, options, settle)) return fault
  }
  return undefined
}

/** The nodes a fault cuts off or stops, for the "skewed node stays observable" rule. */
function touchesNode (fault: Fault, node: string): boolean {
  if (fault.node === node) return true
  if (fault.kind === 'partition') return true
  if (fault.kind === 'cut') return fault.link?.includes(node) === true
  return false
}

function fits (fault: Fault, placed: readonly Fault[], options: ScheduleOptions, settle: number): boolean {
  const start = fault.at
  const end = fault.at + fault.durationMs + settle
  const overlapping = placed.filter(p => p.at < end && start < p.at + p.durationMs + settle)
  let down = 0
  for (const other of overlapping) {
    // One fault at a time per node, per link for delays, one partition and one skew at a time.
    if (fault.node !== undefined && other.node === fault.node && NODE_KINDS.has(other.kind)) return false
    if (fault.kind === other.kind && (fault.kind === 'partition' || fault.kind === 'skew')) return false
    if (fault.kind === 'delay' && other.kind === 'delay' && sameLink(fault.link, other.link)) return false
    // A skewed node stays reachable by its peers, so that they can be seen reporting it.
    if (fault.kind === 'skew' && touchesNode(other, fault.node as string)) return false
    if (other.kind === 'skew' && touchesNode(fault, other.node as string)) return false
    if (DOWN_KINDS.has(other.kind)) down++
  }
  return !(DOWN_KINDS.has(fault.kind) && down >= options.maxDown)
}

function sameLink (x: Link | undefined, y: Link | undefined): boolean {
  if (x === undefined || y === undefined) return false
  return (x[0] === y[0] && x[1] === y[1]) || (x[0] === y[1] && x[1] === y[0])
}

export function countByKind (faults: readonly Fault[]): Record<FaultKind, number> {
  const counts = Object.fromEntries(FAULT_KINDS.map(kind => [kind, 0])) as Record<FaultKind, number>
  for (const fault of faults) counts[fault.kind]++
  return counts
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

/** One line per fault, for the run's log: enough to see what happened when. */
export function describeFault (fault: Fault): string {
  const head = `#${fault.index} +${seconds(fault.at)} ${fault.kind}`
  switch (fault.kind) {
    case 'kill':
    case 'longdown':
    case 'wipe':
      return `${head} ${fault.node ?? '?'}, restart after ${seconds(fault.durationMs)}`
    case 'restore':
      return `${head} ${fault.node ?? '?'}: copy its data, put the copy back after ${seconds(fault.durationMs)}`
    case 'pause':
      return `${head} ${fault.node ?? '?'}, continue after ${seconds(fault.durationMs)}`
    case 'cut':
      return `${head} ${(fault.link ?? []).join('-')}, heal after ${seconds(fault.durationMs)}`
    case 'delay':
      return `${head} ${(fault.link ?? []).join('-')} by ${fault.delayMs ?? 0}ms for ${seconds(fault.durationMs)}`
    case 'partition':
      return `${head} [${(fault.groups?.[0] ?? []).join(',')}] | [${(fault.groups?.[1] ?? []).join(',')}], heal after ${seconds(fault.durationMs)}`
    case 'skew':
      return `${head} ${fault.node ?? '?'} by ${(fault.offsetMs ?? 0) / 60_000} min for ${seconds(fault.durationMs)}`
  }
}
