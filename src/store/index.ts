export { Store } from './store.js'
export type { StatusStore, StoreEvents, StoreOptions, Durability, MarkOptions, PurgeResult, PageOptions, WinnersOptions } from './api.js'
export { DEFAULT_LEVELDB_TUNING, LEVELDB_TUNING_RANGES, type LevelDbTuning } from './db-tuning.js'
