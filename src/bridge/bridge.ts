import { mkdir } from 'node:fs/promises'
import { BRIDGE_RETRY_MAX_MS, BRIDGE_RETRY_MIN_MS, SPOOL_ROTATE_GRACE_MS } from '../limits.js'
import type { Logger } from '../log.js'
import type { StatusStore } from '../store/api.js'
import type { Status } from '../types.js'
import { BridgeState } from './bridge-state.js'
import type { DovecotSection } from './config.js'
import { FeedApplier } from './feed-applier.js'
import { ImapPool } from './imap-pool.js'
import { parseSpoolLine } from './spool-line.js'
import { SpoolTail } from './spool-tail.js'
import { UserWorker, type BridgeCounters } from './user-worker.js'

export interface DovecotBridgeOptions {
  section: DovecotSection
  password: string
  store: StatusStore
  /** Directory of the bridge's own LevelDB. */
  stateDir: string
  log: Logger
}

export interface BridgeStatus {
  /** `ok`, or `degraded` while Dovecot fails (lastError says why). */
  state: 'starting' | 'ok' | 'degraded' | 'stopped'
  imap: string
  cursor: number
  /** Feed entries not applied yet. */
  behind: number
  users: number
  absentUsers: number
  sessions: number
  counters: BridgeCounters & { events: number, echoes: number, badLines: number, catchUps: number, errors: number }
  spool: { path: string, linesRead: number, rotations: number, overlong: number }
  lastError: string | null
  lastCatchUpAt: string | null
}

/**
 * The Dovecot bridge of one node (docs/dovecot.md): local flag changes in from the
 * Lua spool (with CONDSTORE catch-ups at start, after failures and rotations, and
 * periodically), peers' changes out from the node's change feed, through pooled
 * master-user IMAP sessions.
 */
export class DovecotBridge {
  readonly #o: DovecotBridgeOptions
  readonly #workers = new Map<string, UserWorker>()
  readonly #counters = { posted: 0, applied: 0, noMessageId: 0, syncs: 0, expungeSearches: 0, fastEvents: 0, readMs: 0, writeMs: 0, events: 0, echoes: 0, badLines: 0, catchUps: 0, errors: 0 }
  readonly #retry = new Set<string>()
  readonly #timers: NodeJS.Timeout[] = []
  #state: BridgeStatus['state'] = 'starting'
  #lastError: string | null = null
  #lastCatchUpAt: number | null = null
  #retryDelay = BRIDGE_RETRY_MIN_MS
  #retryTimer: NodeJS.Timeout | undefined
  #store: BridgeState | undefined
  #pool: ImapPool | undefined
  #tail: SpoolTail | undefined
  #feed: FeedApplier | undefined
  #stopped = false

  constructor (options: DovecotBridgeOptions) {
    this.#o = options
  }

  async start (): Promise<void> {
    const { section, log } = this.#o
    await mkdir(this.#o.stateDir, { recursive: true })
    const state = this.#store = new BridgeState(this.#o.stateDir)
    await state.open()
    this.#pool = new ImapPool({ imap: section.imap, masterUser: section.masterUser, password: this.#o.password })
    const checkpoint = await state.spool()
    this.#tail = new SpoolTail({
      path: section.spool,
      ...(checkpoint !== undefined ? { checkpoint } : {}),
      onLines: async lines => this.#onLines(lines),
      onCheckpoint: cp => { void state.setSpool(cp).catch(err => this.#fail(undefined, err)) },
      onRotated: () => { this.#timers.push(setTimeout(() => { void this.#catchUpAll('rotation') }, SPOOL_ROTATE_GRACE_MS)) },
      onError: err => this.#fail(undefined, err)
    })
    for (const user of new Set([...await state.users(), ...section.users])) this.#worker(user)
    this.#feed = new FeedApplier({
      store: this.#o.store,
      cursor: await state.cursor(),
      apply: async byUser => await this.#applyFeed(byUser),
      saveCursor: async seq => await state.setCursor(seq),
      reconcile: async () => await this.#reconcile(),
      onError: err => this.#fail(undefined, err)
    })
    this.#tail.start()
    // Catch up first, so local changes made while the bridge was away are entered before peers' are applied.
    void this.#catchUpAll('start').finally(() => { if (!this.#stopped) this.#feed?.start() })
    this.#timers.push(setInterval(() => { void this.#catchUpAll('interval') }, section.catchUpIntervalMs))
    log.info({ event: 'bridge-started', imap: `${section.imap.host}:${section.imap.port}`, spool: section.spool, users: this.#workers.size }, 'Dovecot bridge started')
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#state = 'stopped'
    for (const timer of this.#timers) clearTimeout(timer)
    clearTimeout(this.#retryTimer)
    await this.#feed?.stop()
    await this.#tail?.stop()
    await Promise.all([...this.#workers.values()].map(async w => await w.idle()))
    await this.#pool?.close()
    await this.#store?.close()
  }

  status (): BridgeStatus {
    const { section, store } = this.#o
    const cursor = this.#feed?.cursor ?? 0
    const tail = this.#tail
    return {
      state: this.#state,
      imap: `${section.imap.host}:${section.imap.port}`,
      cursor,
      behind: Math.max(0, store.lastSeq - cursor),
      users: this.#workers.size,
      absentUsers: [...this.#workers.values()].filter(w => w.absent).length,
      sessions: this.#pool?.size ?? 0,
      counters: { ...this.#counters },
      spool: { path: section.spool, linesRead: tail?.linesRead ?? 0, rotations: tail?.rotations ?? 0, overlong: tail?.overlong ?? 0 },
      lastError: this.#lastError,
      lastCatchUpAt: this.#lastCatchUpAt === null ? null : new Date(this.#lastCatchUpAt).toISOString()
    }
  }

  #worker (user: string): UserWorker {
    let worker = this.#workers.get(user)
    if (worker === undefined) {
      const o = this.#o
      const mailboxes = o.section.mailboxes !== undefined ? { mailboxes: o.section.mailboxes } : {}
      worker = new UserWorker({ user, store: o.store, pool: this.#pool as ImapPool, state: this.#store as BridgeState, counters: this.#counters, ...mailboxes })
      this.#workers.set(user, worker)
    }
    return worker
  }

  #onLines (lines: string[]): void {
    for (const line of lines) {
      const event = parseSpoolLine(line)
      if (event === undefined) {
        this.#counters.badLines++
        continue
      }
      this.#counters.events++
      // The bridge's own writes come back tagged with its master user: not a local change.
      if (event.origin === this.#o.section.masterUser) {
        this.#counters.echoes++
        continue
      }
      const done = this.#worker(event.user).noteEvent(event)
      void done?.then(() => this.#ok(), err => this.#fail(event.user, err))
    }
  }

  async #applyFeed (byUser: Map<string, Map<string, Status>>): Promise<void> {
    await Promise.all([...byUser].map(async ([user, fed]) => await this.#worker(user).applyFed(fed)))
    this.#ok()
  }

  async #reconcile (): Promise<void> {
    for (const worker of this.#workers.values()) await worker.apply(await worker.knownIds())
  }

  async #catchUpAll (why: string): Promise<void> {
    const started = Date.now()
    const users = [...this.#workers.values()]
    const results = await Promise.allSettled(users.map(async w => await w.catchUp()))
    results.forEach((r, i) => { if (r.status === 'rejected') this.#fail(users[i]?.user, r.reason) })
    this.#counters.catchUps++
    this.#lastCatchUpAt = Date.now()
    if (results.every(r => r.status === 'fulfilled')) this.#ok()
    const failed = results.filter(r => r.status === 'rejected').length
    this.#o.log.info({ event: 'bridge-catch-up', why, users: users.length, failed, durationMs: Date.now() - started }, 'Dovecot catch-up')
  }

  #ok (): void {
    if (this.#stopped || this.#retry.size > 0) return
    if (this.#state !== 'ok') this.#o.log.info({ event: 'bridge-ok' }, 'Dovecot bridge in step')
    this.#state = 'ok'
    this.#retryDelay = BRIDGE_RETRY_MIN_MS
  }

  /** A failure: the user (or, for a general failure, nobody) is caught up again after a backoff. */
  #fail (user: string | undefined, err: unknown): void {
    if (this.#stopped) return
    this.#counters.errors++
    const message = (err as Error)?.message ?? String(err)
    if (this.#state !== 'degraded' || this.#lastError !== message) this.#o.log.warn({ event: 'bridge-error', user, err: message }, 'Dovecot bridge failure: retrying')
    this.#lastError = message
    this.#state = 'degraded'
    if (user !== undefined) this.#retry.add(user)
    if (this.#retryTimer !== undefined || this.#retry.size === 0) return
    this.#retryTimer = setTimeout(() => { void this.#retryFailed() }, this.#retryDelay)
    this.#retryDelay = Math.min(this.#retryDelay * 2, BRIDGE_RETRY_MAX_MS)
  }

  async #retryFailed (): Promise<void> {
    this.#retryTimer = undefined
    const users = [...this.#retry]
    this.#retry.clear()
    for (const user of users) {
      try {
        await this.#worker(user).catchUp()
      } catch (err) {
        this.#fail(user, err)
      }
    }
    this.#ok()
  }
}
