/**
 * What the store's side modules (peer state, purge) need of the store: the database for
 * reads, and writes that run alone in its write queue. A narrow interface, so that they
 * depend on neither the Store class nor its private state (as group-commit.ts does with
 * its GroupHost).
 */
import type { Level } from 'level'

export type Db = Level<Buffer, Buffer>

export interface StoreAccess {
  /** The database for a read; throws while the store is not open (or reopens after a fault). */
  readDb: () => Db
  /** Throws unless the store can take a write now: open, and no fault. */
  writable: () => void
  /**
   * Runs `run` alone in the write queue (no other write meanwhile) with the database;
   * a failed write becomes the store's fault, and its error what the caller gets.
   */
  solo: <T>(run: (db: Db) => Promise<T>) => Promise<T>
  /** The write option of the store's durability (`sync: true` under `sync`). */
  sync: () => { sync: boolean }
}
