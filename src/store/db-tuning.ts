/**
 * LevelDB's knobs that bound the store's native memory (docs/operations.md "Memory"): the
 * block cache, the memtable size and the number of open (memory-mapped) tables. The store
 * opens its database with them; `config check` validates the mesh file's settings against
 * the same ranges (settings.ts reads LEVELDB_TUNING_RANGES).
 */
import {
  DEFAULT_LEVELDB_CACHE_BYTES, DEFAULT_LEVELDB_MAX_OPEN_FILES, DEFAULT_LEVELDB_WRITE_BUFFER_BYTES,
  MAX_LEVELDB_CACHE_BYTES, MAX_LEVELDB_MAX_OPEN_FILES, MAX_LEVELDB_WRITE_BUFFER_BYTES,
  MIN_LEVELDB_MAX_OPEN_FILES, MIN_LEVELDB_WRITE_BUFFER_BYTES
} from '../limits.js'

/** The options LevelDB is opened with, named as classic-level names them. */
export interface LevelDbTuning {
  /** Uncompressed blocks kept after a read, in bytes. */
  cacheSize: number
  /** One memtable, in bytes (up to two exist at once). */
  writeBufferSize: number
  /** Files LevelDB keeps open: its tables (each memory-mapped while open) and 10 of its own. */
  maxOpenFiles: number
}

export const DEFAULT_LEVELDB_TUNING: Readonly<LevelDbTuning> = Object.freeze({
  cacheSize: DEFAULT_LEVELDB_CACHE_BYTES,
  writeBufferSize: DEFAULT_LEVELDB_WRITE_BUFFER_BYTES,
  maxOpenFiles: DEFAULT_LEVELDB_MAX_OPEN_FILES
})

/** The accepted range of each knob, inclusive (LevelDB would silently clip values outside it). */
export const LEVELDB_TUNING_RANGES: Readonly<Record<keyof LevelDbTuning, readonly [number, number]>> = Object.freeze({
  cacheSize: [0, MAX_LEVELDB_CACHE_BYTES],
  writeBufferSize: [MIN_LEVELDB_WRITE_BUFFER_BYTES, MAX_LEVELDB_WRITE_BUFFER_BYTES],
  maxOpenFiles: [MIN_LEVELDB_MAX_OPEN_FILES, MAX_LEVELDB_MAX_OPEN_FILES]
})

/** Why `value` is not a valid `key`, or undefined when it is. */
function tuningProblem (key: keyof LevelDbTuning, value: unknown): string | undefined {
  const [min, max] = LEVELDB_TUNING_RANGES[key]
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return undefined
  return `must be an integer ${min}..${max}`
}

/** The defaults with `given` over them; a bad value throws a TypeError naming it. */
export function checkLevelDbTuning (given: Partial<LevelDbTuning> = {}): LevelDbTuning {
  const out = { ...DEFAULT_LEVELDB_TUNING }
  for (const key of Object.keys(LEVELDB_TUNING_RANGES) as Array<keyof LevelDbTuning>) {
    const value = given[key]
    if (value === undefined) continue
    const problem = tuningProblem(key, value)
    if (problem !== undefined) throw new TypeError(`leveldb.${key} ${problem}`)
    out[key] = value
  }
  return out
}
