/**
 * The store's database handle and when it may be used: reads need an open store, writes
 * also need no fault. A failed write puts the store in a fault (fault.ts); the FaultWatch
 * then reopens the database, as a solo job of the write queue (no write runs meanwhile),
 * once the cause looks gone (docs/storage.md "Store faults"). Split from Store so that the
 * class keeps its operations, and this file the states its database goes through.
 */
import { STORE_RECOVERY_INTERVAL_MS, STORE_RECOVERY_MIN_FREE_BYTES } from '../limits.js'
import { MarksyncError } from '../errors.js'
import type { Db, StoreAccess } from './access.js'
import type { Durability } from './api.js'
import { FaultWatch, faultError, type FaultWatchInit, type StoreFault } from './fault.js'
import { runAlone, type Job } from './jobs.js'
import { leveldbMemoryBytes, openDb, type OpenedDb } from './open-db.js'
import type { LevelDbTuning } from './db-tuning.js'
import type { WriteQueue } from './write-queue.js'

type GateState = 'new' | 'opening' | 'open' | 'closing' | 'closed'

export interface GateInit extends Pick<FaultWatchInit, 'location' | 'now' | 'onFault' | 'onRecovered'> {
  nodeId: string
  durability: Durability
  /** The options LevelDB is opened (and reopened) with. */
  tuning: LevelDbTuning
  queue: WriteQueue<Job>
  /** Takes what a (re)opened database holds (seqs, clock); the gate already holds `opened.db`. */
  adopt: (opened: OpenedDb) => Promise<void>
}

export class DbGate implements StoreAccess {
  readonly #init: GateInit
  readonly #faults: FaultWatch
  #db: Db | null = null
  #state: GateState = 'new'

  constructor (init: GateInit) {
    this.#init = init
    const { location, now, onFault, onRecovered } = init
    this.#faults = new FaultWatch({
      location,
      now,
      onFault,
      onRecovered,
      reopen: async () => await this.#reopen(),
      intervalMs: STORE_RECOVERY_INTERVAL_MS,
      minFreeBytes: STORE_RECOVERY_MIN_FREE_BYTES
    })
  }

  /** Why the store cannot write right now, or null when it can. */
  get fault (): StoreFault | null { return this.#faults.fault }

  /** Opens the database once; `init` runs before the store counts as open. */
  async open (init: (opened: OpenedDb) => Promise<void>): Promise<void> {
    if (this.#state !== 'new') throw new MarksyncError('STORE_NOT_OPEN', `a store opens once (it is ${this.#state})`)
    this.#state = 'opening'
    try {
      const opened = await openDb(this.#init.location, this.#init.nodeId, this.#init.tuning)
      this.#db = opened.db
      await init(opened)
      this.#state = 'open'
    } catch (err) {
      this.#state = 'closed'
      throw err
    }
  }

  /** Waits for queued writes, lets `flush` write last (not under a fault), closes. Idempotent. */
  async close (flush: (db: Db) => Promise<void>): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    this.#faults.stop()
    await this.#init.queue.idle()
    const db = this.#db
    if (db === null) {
      this.#state = 'closed' // a failed reopen left nothing open
      return
    }
    try {
      if (this.#faults.fault === null) await flush(db)
    } finally {
      this.#state = 'closed'
      // After a fault LevelDB may refuse a clean close; its files are closed anyway.
      await db.close().catch(err => { if (this.#faults.fault === null) throw err })
    }
  }

  readDb (): Db {
    if (this.#state !== 'open') throw new MarksyncError('STORE_NOT_OPEN', `store is ${this.#state === 'opening' ? 'still opening' : this.#state}`)
    // Only while a failing store reopens (or failed to): reads wait for the reopen.
    if (this.#db === null) throw faultError(this.#faults.fault as StoreFault)
    return this.#db
  }

  /** The database for a job the queue runs (also while closing: close() waits for them). */
  jobDb (): Db {
    const fault = this.#faults.fault
    if (fault !== null) throw faultError(fault)
    return this.#db as Db
  }

  /** The database, if it can take writes now; else the fault's error. */
  writable (): Db {
    const db = this.readDb()
    if (this.#faults.fault !== null) throw faultError(this.#faults.fault)
    return db
  }

  async solo<T> (run: (db: Db) => Promise<T>): Promise<T> {
    return await runAlone(this.#init.queue, async () => await run(this.jobDb()), err => this.failed(err))
  }

  /** LevelDB's estimate of its block cache and memtables, in bytes (throws while not open). */
  memoryBytes (): number {
    return leveldbMemoryBytes(this.readDb())
  }

  sync (): { sync: boolean } {
    return { sync: this.#init.durability === 'sync' }
  }

  /** The error a caller gets for a failed read or write (a disk failure starts a fault). */
  failed (err: unknown): unknown {
    return this.#faults.failed(err)
  }

  /** Closes the failed database and opens it again (a solo job: no write runs meanwhile). */
  async #reopen (): Promise<boolean> {
    return await runAlone(this.#init.queue, async () => {
      if (this.#state !== 'open') return false
      const old = this.#db
      this.#db = null
      // LevelDB may refuse a clean close after the fault; its files are closed anyway.
      await old?.close().catch(() => {})
      const opened = await openDb(this.#init.location, this.#init.nodeId, this.#init.tuning)
      this.#db = opened.db
      await this.#init.adopt(opened)
      return true
    })
  }
}
