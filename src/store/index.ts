export { Store } from './store.js'
export type { StatusStore, StoreEvents, StoreOptions, Durability, PurgeResult, PageOptions, WinnersOptions } from './api.js'
