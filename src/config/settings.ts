import {
  DEFAULT_ANTI_ENTROPY_INTERVAL_MS,
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_ENTRIES,
  DEFAULT_DURABILITY,
  DEFAULT_HEAP_GROWING_PERCENT,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LOG_RETENTION_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_PURGE_INTERVAL_MS,
  DEFAULT_WINDOW,
  MAX_BATCH_ENTRIES,
  MAX_FRAME_BYTES,
  MAX_HEAP_GROWING_PERCENT,
  MAX_WINDOW
} from '../limits.js'
import { DEFAULT_LEVELDB_TUNING, LEVELDB_TUNING_RANGES, type LevelDbTuning } from '../store/db-tuning.js'
import type { Durability } from '../contracts.js'
import { parseDuration } from './duration.js'
import { checkKeys, isObject, Problems, type JsonPath } from './problems.js'

/** Where a secret comes from: a file (path relative to the mesh file) or an environment variable. */
export type SecretRef = { file: string } | { env: string }

/**
 * Tunables of one node: the defaults, then the mesh-wide `settings`, then the
 * node's own `settings` (documented in docs/operations.md "Settings").
 */
export interface Settings {
  durability: Durability
  retentionMs: number
  /** 0 turns the scheduled purge off (on-demand purge still works). */
  purgeIntervalMs: number
  maxClockSkewMs: number
  heartbeatMs: number
  batchEntries: number
  batchBytes: number
  window: number
  /** Time between two anti-entropy rounds with each peer, in ms; 0: only on demand. */
  antiEntropyIntervalMs: number
  /** LevelDB's block cache, in bytes (docs/operations.md "Memory"). */
  leveldbCacheSize: number
  /** LevelDB's memtable, in bytes (up to two at once). */
  leveldbWriteBufferSize: number
  /** Files LevelDB keeps open: bounds its memory-mapped tables. */
  leveldbMaxOpenFiles: number
  /** V8's old space grows to (1 + this/100) × the live heap after a full collection; 0: V8's own choice. */
  heapGrowingPercent: number
  apiToken?: SecretRef
}

export const DEFAULT_SETTINGS: Settings = {
  durability: DEFAULT_DURABILITY,
  retentionMs: DEFAULT_LOG_RETENTION_MS,
  purgeIntervalMs: DEFAULT_PURGE_INTERVAL_MS,
  maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
  batchEntries: DEFAULT_BATCH_ENTRIES,
  batchBytes: DEFAULT_BATCH_BYTES,
  window: DEFAULT_WINDOW,
  antiEntropyIntervalMs: DEFAULT_ANTI_ENTROPY_INTERVAL_MS,
  leveldbCacheSize: DEFAULT_LEVELDB_TUNING.cacheSize,
  leveldbWriteBufferSize: DEFAULT_LEVELDB_TUNING.writeBufferSize,
  leveldbMaxOpenFiles: DEFAULT_LEVELDB_TUNING.maxOpenFiles,
  heapGrowingPercent: DEFAULT_HEAP_GROWING_PERCENT
}

/** Largest `batchBytes` setting, in bytes: a batch must fit in one replication frame. */
export const MAX_BATCH_BYTES_SETTING = MAX_FRAME_BYTES
/** Largest `window` setting: half the receiver's queue (MAX_WINDOW), as the replicator allows. */
export const MAX_WINDOW_SETTING = MAX_WINDOW / 2
/** Shortest `heartbeat` setting, in ms. */
export const MIN_HEARTBEAT_MS = 50

export const SETTING_KEYS = [
  'durability', 'retention', 'purgeInterval', 'maxClockSkew', 'heartbeat',
  'batchEntries', 'batchBytes', 'window', 'apiToken', 'antiEntropyInterval',
  'leveldbCacheSize', 'leveldbWriteBufferSize', 'leveldbMaxOpenFiles', 'heapGrowingPercent'
] as const

export function parseSecretRef (value: unknown, path: JsonPath, problems: Problems): SecretRef | undefined {
  if (typeof value === 'string') {
    problems.add(path, 'secrets are never written inline: use {"file": "path"} or {"env": "VARIABLE"}')
    return undefined
  }
  if (!isObject(value)) {
    problems.add(path, 'must be {"file": "path"} or {"env": "VARIABLE"}')
    return undefined
  }
  checkKeys(value, ['file', 'env'], path, problems)
  const hasFile = value.file !== undefined
  const hasEnv = value.env !== undefined
  if (hasFile === hasEnv) {
    problems.add(path, 'must name exactly one of "file" or "env"')
    return undefined
  }
  if (hasFile) {
    if (typeof value.file !== 'string' || value.file === '') problems.add([...path, 'file'], 'must be a non-empty path')
    else return { file: value.file }
  } else if (typeof value.env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value.env)) {
    problems.add([...path, 'env'], 'must be an environment variable name')
  } else {
    return { env: value.env }
  }
  return undefined
}

function duration (value: unknown, path: JsonPath, problems: Problems, min: number): number | undefined {
  const ms = parseDuration(value)
  if (ms === undefined) problems.add(path, `bad duration ${JSON.stringify(value)}: use ms as a number or a string like "250ms", "10s", "5m", "2h", "7d"`)
  else if (ms < min) problems.add(path, `must be at least ${min} ms`)
  else return ms
  return undefined
}

function integer (value: unknown, path: JsonPath, problems: Problems, min: number, max: number): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(path, `must be an integer ${min}..${max}`)
    return undefined
  }
  return value
}

/** Validates one `settings` object; returns only the keys it sets. */
export function parseSettings (value: unknown, path: JsonPath, problems: Problems): Partial<Settings> {
  const out: Partial<Settings> = {}
  if (value === undefined) return out
  if (!isObject(value)) {
    problems.add(path, 'must be an object')
    return out
  }
  checkKeys(value, SETTING_KEYS, path, problems)
  const at = (key: string): JsonPath => [...path, key]
  if (value.durability !== undefined) {
    if (value.durability === 'sync' || value.durability === 'relaxed') out.durability = value.durability
    else problems.add(at('durability'), 'must be "sync" or "relaxed"')
  }
  if (value.retention !== undefined) out.retentionMs = duration(value.retention, at('retention'), problems, 1)
  if (value.purgeInterval !== undefined) out.purgeIntervalMs = duration(value.purgeInterval, at('purgeInterval'), problems, 0)
  if (value.maxClockSkew !== undefined) out.maxClockSkewMs = duration(value.maxClockSkew, at('maxClockSkew'), problems, 1)
  if (value.heartbeat !== undefined) out.heartbeatMs = duration(value.heartbeat, at('heartbeat'), problems, MIN_HEARTBEAT_MS)
  if (value.batchEntries !== undefined) out.batchEntries = integer(value.batchEntries, at('batchEntries'), problems, 1, MAX_BATCH_ENTRIES)
  if (value.batchBytes !== undefined) out.batchBytes = integer(value.batchBytes, at('batchBytes'), problems, 1024, MAX_BATCH_BYTES_SETTING)
  if (value.window !== undefined) out.window = integer(value.window, at('window'), problems, 1, MAX_WINDOW_SETTING)
  if (value.antiEntropyInterval !== undefined) out.antiEntropyIntervalMs = duration(value.antiEntropyInterval, at('antiEntropyInterval'), problems, 0)
  parseLeveldb(value, path, problems, out)
  if (value.heapGrowingPercent !== undefined) out.heapGrowingPercent = integer(value.heapGrowingPercent, at('heapGrowingPercent'), problems, 0, MAX_HEAP_GROWING_PERCENT)
  if (value.apiToken !== undefined) out.apiToken = parseSecretRef(value.apiToken, at('apiToken'), problems)
  // Drop keys whose value failed, so a bad override never masks the mesh-wide value silently.
  for (const key of Object.keys(out) as Array<keyof Settings>) if (out[key] === undefined) delete out[key]
  return out
}

/** Each LevelDB setting and the store's knob it sets (db-tuning.ts holds their ranges). */
const LEVELDB_SETTINGS = {
  leveldbCacheSize: 'cacheSize',
  leveldbWriteBufferSize: 'writeBufferSize',
  leveldbMaxOpenFiles: 'maxOpenFiles'
} as const satisfies Record<string, keyof LevelDbTuning>

/** LevelDB's memory knobs, in the ranges LevelDB honours as given (it would clip others silently). */
function parseLeveldb (value: Record<string, unknown>, path: JsonPath, problems: Problems, out: Partial<Settings>): void {
  for (const [setting, knob] of Object.entries(LEVELDB_SETTINGS) as Array<[keyof typeof LEVELDB_SETTINGS, keyof LevelDbTuning]>) {
    if (value[setting] === undefined) continue
    const [min, max] = LEVELDB_TUNING_RANGES[knob]
    out[setting] = integer(value[setting], [...path, setting], problems, min, max)
  }
}

export function mergeSettings (...layers: Array<Partial<Settings>>): Settings {
  return Object.assign({}, DEFAULT_SETTINGS, ...layers) as Settings
}
