import type { Status } from '../types.js'
import type { StoreGroup } from './mailbox-io.js'

/** What the bridge knows of one message copy in Dovecot. */
export interface CopyState {
  /** The Message-ID; undefined for a message without one (never replicated, counted). */
  id: string | undefined
  /** The status its flags gave when last read from (or written to) Dovecot. */
  status: Status
}

/** One mailbox of one user, as last synchronised: enough to resume with CHANGEDSINCE. */
export class MailboxIndex {
  readonly messages = new Map<number, CopyState>()
  /** UIDs changed or removed since the last save. */
  readonly dirty = new Set<number>()
  metaDirty = false

  constructor (readonly name: string, public uidValidity: number, public highestModseq: bigint) {}
}

export interface CopyRef { mailbox: MailboxIndex, uid: number, state: CopyState }

/** Where one copy lives: its mailbox's name and its UID. */
interface CopyAt { mailbox: string, uid: number }

/**
 * Every watched mailbox of one user, with the reverse map Message-ID → copies, so
 * a status reaches every copy of a message (INBOX, an archive folder, a duplicate).
 */
export class UserIndex {
  readonly mailboxes = new Map<string, MailboxIndex>()
  /** Most messages have one copy: a short array, not a set of joined strings to parse on every lookup. */
  readonly #byId = new Map<string, CopyAt[]>()

  constructor (readonly user: string) {}

  mailbox (name: string): MailboxIndex | undefined {
    return this.mailboxes.get(name)
  }

  /** Adds (or replaces, after a UIDVALIDITY change: empty) a mailbox. */
  resetMailbox (name: string, uidValidity: number): MailboxIndex {
    const old = this.mailboxes.get(name)
    if (old !== undefined) for (const uid of [...old.messages.keys()]) this.remove(old, uid)
    const box = new MailboxIndex(name, uidValidity, 0n)
    if (old !== undefined) for (const uid of old.dirty) box.dirty.add(uid)
    box.metaDirty = true
    this.mailboxes.set(name, box)
    return box
  }

  set (box: MailboxIndex, uid: number, state: CopyState): void {
    const before = box.messages.get(uid)
    box.messages.set(uid, state)
    box.dirty.add(uid)
    if (before?.id === state.id) return
    if (before?.id !== undefined) this.#unlink(before.id, box.name, uid)
    if (state.id === undefined) return
    const refs = this.#byId.get(state.id)
    if (refs === undefined) this.#byId.set(state.id, [{ mailbox: box.name, uid }])
    else refs.push({ mailbox: box.name, uid })
  }

  remove (box: MailboxIndex, uid: number): CopyState | undefined {
    const before = box.messages.get(uid)
    if (before === undefined) return undefined
    box.messages.delete(uid)
    box.dirty.add(uid)
    if (before.id !== undefined) this.#unlink(before.id, box.name, uid)
    return before
  }

  copies (id: string): CopyRef[] {
    const out: CopyRef[] = []
    for (const at of this.#byId.get(id) ?? []) {
      const box = this.mailboxes.get(at.mailbox)
      const state = box?.messages.get(at.uid)
      if (box !== undefined && state !== undefined) out.push({ mailbox: box, uid: at.uid, state })
    }
    return out
  }

  #unlink (id: string, mailbox: string, uid: number): void {
    const refs = this.#byId.get(id)
    if (refs === undefined) return
    const at = refs.findIndex(ref => ref.uid === uid && ref.mailbox === mailbox)
    if (at >= 0) refs.splice(at, 1)
    if (refs.length === 0) this.#byId.delete(id)
  }
}

/**
 * The STOREs that bring every copy of these messages to its winner (undefined: none, nothing
 * to do), per mailbox, one group per (from, to) pair so that each is one `UID STORE` set.
 */
export function storesToWinners (index: UserIndex, ids: Iterable<string>, winners: ReadonlyMap<string, Status | undefined>): Map<MailboxIndex, StoreGroup[]> {
  const byBox = new Map<MailboxIndex, Map<string, StoreGroup>>()
  for (const id of ids) {
    const winner = winners.get(id)
    if (winner === undefined) continue
    for (const copy of index.copies(id)) {
      if (copy.state.status === winner) continue
      let groups = byBox.get(copy.mailbox)
      if (groups === undefined) byBox.set(copy.mailbox, groups = new Map())
      const key = `${copy.state.status}>${winner}`
      let group = groups.get(key)
      if (group === undefined) groups.set(key, group = { from: copy.state.status, to: winner, uids: [] })
      group.uids.push(copy.uid)
    }
  }
  return new Map([...byBox].map(([box, groups]) => [box, [...groups.values()]]))
}
