import { Level } from 'level'
import type { Status } from '../types.js'
import type { SpoolCheckpoint } from './spool-tail.js'
import { MailboxIndex, UserIndex } from './user-index.js'

/**
 * The bridge's own durable state, in a LevelDB of its own beside the node's (the
 * node's database belongs to the store): the applied feed cursor, the spool
 * checkpoint, and per (user, mailbox) the UIDVALIDITY, HIGHESTMODSEQ and the
 * uid → (Message-ID, status) map, so a restart resumes with CHANGEDSINCE instead
 * of reading every message again. Keys: `c`, `s`, `b\0user\0mailbox`, `m\0user\0mailbox\0uid`.
 */
const SEP = '\u0000'
type Row = [id: string | null, status: Status]

export class BridgeState {
  readonly #db: Level<string, unknown>

  constructor (location: string) {
    this.#db = new Level<string, unknown>(location, { keyEncoding: 'utf8', valueEncoding: 'json' })
  }

  async open (): Promise<void> { await this.#db.open() }
  async close (): Promise<void> { await this.#db.close() }

  async cursor (): Promise<number> {
    return (await this.#db.get('c') as number | undefined) ?? 0
  }

  /** Not fsynced: a cursor lost in a crash only replays entries, and applying a winner twice changes nothing. */
  async setCursor (seq: number): Promise<void> {
    await this.#db.put('c', seq)
  }

  async spool (): Promise<SpoolCheckpoint | undefined> {
    return await this.#db.get('s') as SpoolCheckpoint | undefined
  }

  async setSpool (checkpoint: SpoolCheckpoint): Promise<void> {
    await this.#db.put('s', checkpoint)
  }

  /** Users with at least one saved mailbox. */
  async users (): Promise<string[]> {
    const users = new Set<string>()
    for await (const key of this.#db.keys({ gt: `b${SEP}`, lt: `b${SEP}\uffff` })) users.add(key.split(SEP)[1] as string)
    return [...users]
  }

  async loadUser (user: string): Promise<UserIndex> {
    const index = new UserIndex(user)
    const prefix = `b${SEP}${user}${SEP}`
    for await (const [key, value] of this.#db.iterator({ gt: prefix, lt: `${prefix}\uffff` })) {
      const [validity, modseq] = value as [number, string]
      index.mailboxes.set(key.slice(prefix.length), new MailboxIndex(key.slice(prefix.length), validity, BigInt(modseq)))
    }
    for (const box of index.mailboxes.values()) {
      const rows = `m${SEP}${user}${SEP}${box.name}${SEP}`
      for await (const [key, value] of this.#db.iterator({ gt: rows, lt: `${rows}\uffff` })) {
        const [id, status] = value as Row
        index.set(box, Number(key.slice(rows.length)), { id: id ?? undefined, status })
      }
      box.dirty.clear()
    }
    return index
  }

  /** Writes what changed in `box` since the last save, in one batch. */
  async saveMailbox (user: string, box: MailboxIndex): Promise<void> {
    const rows = `m${SEP}${user}${SEP}${box.name}${SEP}`
    const ops: Array<{ type: 'put', key: string, value: unknown } | { type: 'del', key: string }> = []
    for (const uid of box.dirty) {
      const state = box.messages.get(uid)
      const key = rows + String(uid).padStart(10, '0')
      ops.push(state === undefined ? { type: 'del', key } : { type: 'put', key, value: [state.id ?? null, state.status] satisfies Row })
    }
    ops.push({ type: 'put', key: `b${SEP}${user}${SEP}${box.name}`, value: [box.uidValidity, box.highestModseq.toString()] })
    await this.#db.batch(ops)
    box.dirty.clear()
    box.metaDirty = false
  }
}
