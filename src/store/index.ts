export { Store } from './store.js'
export type { StatusStore, StoreOptions, Durability, PurgeResult, PageOptions, WinnersOptions } from './api.js'
