import { performance } from 'node:perf_hooks'
import { BRIDGE_WINNER_READS, MAX_API_CHANGES } from '../limits.js'
import type { MarkOptions, StatusStore } from '../store/api.js'
import type { LocalChange, Status } from '../types.js'
import type { BridgeState } from './bridge-state.js'
import { statusAfterEvent } from './flags.js'
import type { SpoolEvent } from './spool-line.js'
import { UserAbsentError, type ImapPool } from './imap-pool.js'
import { listMailboxes, readMailbox, storeGroups, type Observed } from './mailbox-io.js'
import { storesToWinners, type MailboxIndex, type UserIndex } from './user-index.js'

/** Counters shared by every user's worker (the bridge's status and metrics). */
export interface BridgeCounters {
  /** Local changes entered into the node (differing from its winner). */
  posted: number
  /** Message copies whose flags the bridge changed in Dovecot. */
  applied: number
  /** Messages seen without a Message-ID (never replicated). */
  noMessageId: number
  /** Mailbox reads (event-driven syncs and catch-ups). */
  syncs: number
  /** `UID SEARCH`es listing a mailbox's UIDs to find expunges (a catch-up skips it when the count shows none). */
  expungeSearches: number
  /** Flag events decided without reading Dovecot (the rest read their mailbox). */
  fastEvents: number
  /** Time spent reading Dovecot and entering changes / writing to Dovecot, in ms. */
  readMs: number
  writeMs: number
}

export interface UserWorkerOptions {
  user: string
  store: StatusStore
  pool: ImapPool
  state: BridgeState
  counters: BridgeCounters
  mailboxes?: string[]
}

type FlagEvent = SpoolEvent & { kind: 'flags-set' | 'flags-clear' }

interface Decisions { post: Map<string, Status>, apply: Set<string> }

/**
 * Everything the bridge does for one user, one operation at a time (so a read of
 * Dovecot and a write to it never interleave): reading changed messages and
 * entering local changes, and applying the node's winners to every copy.
 */
export class UserWorker {
  readonly #o: UserWorkerOptions
  #index: Promise<UserIndex> | undefined
  #queue: Promise<unknown> = Promise.resolve()
  /** Mailboxes with events not yet read, each with the UIDs reported expunged. */
  readonly #pending = new Map<string, Set<number>>()
  #drainQueued = false
  /** Flag events not handled yet, in spool order. */
  readonly #flagEvents: FlagEvent[] = []
  /** Set while Dovecot has no such user; cleared by an event or a catch-up. */
  absent = false
  /** Whether every watched mailbox has been read once (else the index may lack copies). */
  #listed = false
  /** Messages without a Message-ID already counted (mailbox, uid): a re-read from scratch does not count them twice. */
  readonly #countedWithoutId = new Set<string>()

  constructor (options: UserWorkerOptions) {
    this.#o = options
  }

  get user (): string { return this.#o.user }

  /**
   * Notes a spool event. A flag change of a copy the index knows is decided from the
   * event alone (no IMAP read: the latency path); anything else has its mailbox read
   * soon. Events coalesce while the worker is busy.
   */
  noteEvent (event: SpoolEvent): Promise<void> | undefined {
    if (this.#o.mailboxes !== undefined && !this.#o.mailboxes.includes(event.mailbox)) return undefined
    this.absent = false
    if (event.kind === 'flags-set' || event.kind === 'flags-clear') {
      this.#flagEvents.push(event as FlagEvent)
    } else {
      this.#readSoon(event.mailbox, event.kind === 'expunge' ? event.uid : undefined)
    }
    if (this.#drainQueued) return undefined
    this.#drainQueued = true
    return this.#run(async () => {
      this.#drainQueued = false
      const events = this.#flagEvents.splice(0)
      if (!this.#listed) {
        // First contact: read every mailbox once (what these events changed is read with it), so
        // the index knows every copy before the feed needs them and no second full read follows.
        this.#pending.clear()
        await this.#readAll()
        return
      }
      if (events.length > 0) await this.#fastPath(events)
      const pending = [...this.#pending]
      this.#pending.clear()
      for (const [name, expunged] of pending) await this.#sync(name, [...expunged])
    })
  }

  #readSoon (mailbox: string, expungedUid?: number): void {
    let uids = this.#pending.get(mailbox)
    if (uids === undefined) this.#pending.set(mailbox, uids = new Set())
    if (expungedUid !== undefined) uids.add(expungedUid)
  }

  /** Flag events of known copies, in order; an event the index cannot decide reads its mailbox instead. */
  async #fastPath (events: FlagEvent[]): Promise<void> {
    const index = await this.#loadIndex()
    const started = performance.now()
    const decisions: Decisions = { post: new Map(), apply: new Set() }
    const touched = new Set<MailboxIndex>()
    for (const e of events) {
      const box = index.mailbox(e.mailbox)
      const before = box?.uidValidity === e.uidValidity ? box.messages.get(e.uid) : undefined
      const status = before === undefined ? undefined : statusAfterEvent(before.status, e.kind, e.flags)
      if (box === undefined || before === undefined || status === undefined) {
        this.#readSoon(e.mailbox)
        continue
      }
      if (status === before.status) continue
      index.set(box, e.uid, { id: before.id, status })
      touched.add(box)
      // The newest event for a message decides; the store leaves out one that ends where the winner is.
      if (before.id !== undefined) decisions.post.set(before.id, status)
    }
    await this.#post(decisions.post, { skipUnchanged: true })
    for (const box of touched) await this.#o.state.saveMailbox(this.user, box)
    this.#o.counters.fastEvents += events.length
    this.#o.counters.readMs += performance.now() - started
  }

  /** Reads every watched mailbox in full (changes since the last read, and every expunge). */
  async catchUp (): Promise<void> {
    this.absent = false
    await this.#run(async () => await this.#readAll())
  }

  async #readAll (): Promise<void> {
    const names = await listMailboxes(await this.#o.pool.session(this.user), this.#o.mailboxes)
    for (const name of names) await this.#sync(name, 'all')
    this.#listed = true
  }

  /** Brings every copy of these messages to the node's current winner. */
  async apply (ids: Iterable<string>): Promise<void> {
    await this.#applyListed([...ids])
  }

  /**
   * Applies a batch of the feed (Message-ID → the status of its last entry there). A message
   * whose every copy already shows that status (a change this bridge entered itself, most
   * often) is skipped without reading its winner: a later entry, if any, comes in a later batch.
   */
  async applyFed (fed: ReadonlyMap<string, Status>): Promise<void> {
    await this.#applyListed([...fed.keys()], fed)
  }

  async #applyListed (ids: string[], fed?: ReadonlyMap<string, Status>): Promise<void> {
    if (this.absent) return
    await this.#run(async () => {
      // A user first met in the feed: read their mailboxes once, or the copies are unknown.
      if (!this.#listed) await this.#readAll()
      if (fed === undefined) return await this.#apply(ids)
      const index = await this.#loadIndex()
      await this.#apply(ids.filter(id => index.copies(id).some(copy => copy.state.status !== fed.get(id))))
    })
  }

  /** Every message the bridge knows of this user (after a gap in the feed). */
  async knownIds (): Promise<string[]> {
    const index = await this.#loadIndex()
    const ids = new Set<string>()
    for (const box of index.mailboxes.values()) for (const state of box.messages.values()) if (state.id !== undefined) ids.add(state.id)
    return [...ids]
  }

  async idle (): Promise<void> {
    await this.#queue.catch(() => {})
  }

  async #run (fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.catch(() => {}).then(fn).catch(err => {
      if (!(err instanceof UserAbsentError)) throw err
      this.absent = true
    })
    this.#queue = run
    await run
  }

  async #loadIndex (): Promise<UserIndex> {
    // One load shared by every caller: two loads at once would each make an index of their own,
    // and the later one would drop what was entered into the first meanwhile.
    this.#index ??= this.#o.state.loadUser(this.user).catch(err => {
      this.#index = undefined
      throw err
    })
    return await this.#index
  }

  async #sync (name: string, presentOf?: number[] | 'all'): Promise<void> {
    const index = await this.#loadIndex()
    let box = index.mailbox(name)
    const client = await this.#o.pool.session(this.user)
    const started = performance.now()
    const known = box
    const validity = known !== undefined ? { validity: known.uidValidity } : {}
    const read = await readMailbox(client, name, { ...validity, modseq: known?.highestModseq ?? 0n, copies: known?.messages ?? new Map() }, presentOf)
    if (read.searched) this.#o.counters.expungeSearches++
    if (box === undefined || box.uidValidity !== read.uidValidity) box = index.resetMailbox(name, read.uidValidity)
    const decisions: Decisions = { post: new Map(), apply: new Set() }
    // The winners of every message whose status is new to the index, read together.
    const winners = await this.#winners(read.messages.filter(m => m.id !== undefined && box?.messages.get(m.uid)?.status !== m.status).map(m => m.id as string))
    for (const message of read.messages) this.#observe(index, box, message, decisions, winners)
    if (read.present !== undefined) {
      const candidates = presentOf === 'all' ? [...box.messages.keys()] : presentOf ?? []
      for (const uid of candidates) if (!read.present.has(uid)) await this.#expunged(index, box, uid, decisions)
    }
    await this.#post(decisions.post)
    await this.#o.state.saveMailbox(this.user, box)
    // Counted once entered and saved, so a wait on this counter (a bench's warm-up) waits for the whole read.
    this.#o.counters.syncs++
    this.#o.counters.readMs += performance.now() - started
    if (decisions.apply.size > 0) await this.#apply([...decisions.apply])
  }

  /** The node's winners of these messages (absent: none), BRIDGE_WINNER_READS per LevelDB read. */
  async #winners (ids: Iterable<string>): Promise<Map<string, Status | undefined>> {
    const list = [...new Set(ids)]
    const out = new Map<string, Status | undefined>()
    for (let i = 0; i < list.length; i += BRIDGE_WINNER_READS) {
      const part = list.slice(i, i + BRIDGE_WINNER_READS)
      const found = await this.#o.store.getMany(this.user, part)
      part.forEach((id, n) => out.set(id, found[n]?.status))
    }
    return out
  }

  #observe (index: UserIndex, box: MailboxIndex, m: Observed, d: Decisions, winners: Map<string, Status | undefined>): void {
    if (m.modseq > box.highestModseq) box.highestModseq = m.modseq
    const before = box.messages.get(m.uid)
    index.set(box, m.uid, { id: m.id, status: m.status })
    if (m.id === undefined) {
      const key = `${box.name}\u0000${m.uid}`
      if (before === undefined && !this.#countedWithoutId.has(key)) {
        this.#countedWithoutId.add(key)
        this.#o.counters.noMessageId++
      }
      return
    }
    // Unchanged status: a flag the mapping ignores, or the bridge's own write read back.
    if (before !== undefined && before.status === m.status) return
    const winner = winners.get(m.id)
    if (before === undefined) {
      // First sight (a new message, or a first read): the node's winner, if any, decides.
      if (winner !== undefined && winner !== m.status) d.apply.add(m.id)
      else if (winner === undefined && m.status !== 'unread') d.post.set(m.id, m.status)
      return
    }
    if (winner !== m.status) d.post.set(m.id, m.status)
  }

  async #expunged (index: UserIndex, box: MailboxIndex, uid: number, d: Decisions): Promise<void> {
    const gone = index.remove(box, uid)
    // A move expunges one copy and leaves another: only the last copy's expunge is a delete.
    if (gone?.id === undefined || index.copies(gone.id).length > 0) return
    if ((await this.#winners([gone.id])).get(gone.id) !== 'deleted') d.post.set(gone.id, 'deleted')
  }

  async #post (changes: Map<string, Status>, options: MarkOptions = {}): Promise<void> {
    const list: LocalChange[] = [...changes].map(([message, status]) => ({ user: this.user, message, status }))
    for (let i = 0; i < list.length; i += MAX_API_CHANGES) {
      const entered = await this.#o.store.mark(list.slice(i, i + MAX_API_CHANGES), options)
      this.#o.counters.posted += entered.length
    }
  }

  async #apply (ids: string[]): Promise<void> {
    const index = await this.#loadIndex()
    const byBox = storesToWinners(index, ids, await this.#winners(ids))
    for (const [box, groups] of byBox) {
      const client = await this.#o.pool.session(this.user)
      const started = performance.now()
      // Not `applied += await …`: that reads the total first, and users applied at once lose counts.
      const stored = await storeGroups(client, box.name, groups)
      this.#o.counters.applied += stored
      this.#o.counters.writeMs += performance.now() - started
      for (const group of groups) {
        for (const uid of group.uids) index.set(box, uid, { id: box.messages.get(uid)?.id, status: group.to })
      }
      // No read-back: a user's change racing this STORE comes as its own spool event after it
      // (and wins as the newer change); the catch-ups are the safety net.
      await this.#o.state.saveMailbox(this.user, box)
    }
  }
}
