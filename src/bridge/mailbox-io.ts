import type { ImapFlow } from 'imapflow'
import { BRIDGE_STORE_UIDS } from '../limits.js'
import type { Status } from '../types.js'
import { messageIdOf, statusOfFlags } from './flags.js'

/** One message as read from Dovecot. */
export interface Observed { uid: number, id: string | undefined, status: Status, modseq: bigint }

export interface MailboxRead {
  uidValidity: number
  messages: Observed[]
  /** UIDs present now, when asked for (expunge detection); undefined otherwise. */
  present?: Set<number>
  /** Whether a `UID SEARCH` listed the present UIDs (the rest of the time the count sufficed). */
  searched: boolean
}

/** The mailboxes to watch: the configured list, or every selectable mailbox of the user. */
export async function listMailboxes (client: ImapFlow, configured: string[] | undefined): Promise<string[]> {
  if (configured !== undefined) return configured
  const list = await client.list()
  return list.filter(box => !box.flags.has('\\Noselect') && !box.flags.has('\\NonExistent')).map(box => box.path)
}

/** What the bridge knows of a mailbox before reading it: its UIDs, with their Message-IDs. */
export interface KnownMailbox { validity?: number, modseq: bigint, copies: ReadonlyMap<number, { id: string | undefined }> }

const NONE: ReadonlyMap<number, { id: string | undefined }> = new Map()

/**
 * Whether a catch-up can tell, without listing the mailbox, that no known UID is gone:
 * every message present now is known or was just fetched (a new message has a MODSEQ
 * above the known one), so known ∪ fetched has as many UIDs as the mailbox exactly when
 * nothing known was expunged. An expunge that Dovecot reports only after this read is
 * found by the next catch-up (or comes as its own spool event).
 */
function nothingExpunged (known: ReadonlyMap<number, unknown>, fetched: Array<{ uid: number }>, exists: number): boolean {
  let union = known.size
  for (const m of fetched) if (!known.has(m.uid)) union++
  return union === exists
}

/**
 * Reads the messages of `mailbox` changed since `known.modseq` (all of them when 0n,
 * or when the UIDVALIDITY is not `known.validity`) with flags and MODSEQ; the Message-ID
 * only of those not known (headers cost far more to parse than flags).
 * `presentOf` asks which of these UIDs still exist; with 'all', which UIDs at all, and then
 * `present` is left undefined when the message count shows that none of the known is gone:
 * a periodic catch-up of an unchanged mailbox costs its changes, not its size.
 */

export async function readMailbox (client: ImapFlow, mailbox: string, known: KnownMailbox, presentOf?: number[] | 'all'): Promise<MailboxRead> {
  const lock = await client.getMailboxLock(mailbox)
  try {
    // A session that stays selected sees other sessions' changes only after a command: NOOP first.
    await client.noop()
    const info = client.mailbox === false ? undefined : client.mailbox
    const uidValidity = Number(info?.uidValidity ?? 0n)
    const full = known.validity !== uidValidity || known.modseq === 0n
    // Copies under another UIDVALIDITY are other messages: none of them is known here.
    const copies = known.validity === uidValidity ? known.copies : NONE
    const idOf = (uid: number): string | undefined => copies.get(uid)?.id
    const empty = (info?.exists ?? 0) === 0
    const options = full ? { uid: true } : { uid: true, changedSince: known.modseq }
    const fetched = empty ? [] : await client.fetchAll('1:*', { uid: true, flags: true }, options)
    const ids = new Map<number, string | undefined>()
    const unknown = full ? fetched.map(m => m.uid) : fetched.map(m => m.uid).filter(uid => idOf(uid) === undefined)
    if (unknown.length > 0) {
      const range = full ? '1:*' : unknown.join(',')
      for (const m of await client.fetchAll(range, { uid: true, headers: ['message-id'] }, { uid: true })) ids.set(m.uid, messageIdOf(m.headers))
    }
    const messages = fetched.map(m => ({ uid: m.uid, id: ids.has(m.uid) ? ids.get(m.uid) : idOf(m.uid), status: statusOfFlags(m.flags ?? []), modseq: m.modseq ?? 0n }))
    const read: MailboxRead = { uidValidity, messages, searched: false }
    // The count after the fetch: Dovecot reports EXISTS and EXPUNGE with each command's response.
    const exists = client.mailbox === false ? 0 : client.mailbox.exists
    if (presentOf === 'all' && !empty && nothingExpunged(copies, fetched, exists)) return read
    if (!empty && (presentOf === 'all' || (presentOf !== undefined && presentOf.length > 0))) {
      const found = await client.search({ uid: presentOf === 'all' ? '1:*' : presentOf.join(',') }, { uid: true })
      // A refused SEARCH is not an empty mailbox: taking it as one would delete every message.
      if (!Array.isArray(found)) throw new Error(`UID SEARCH in ${JSON.stringify(mailbox)} was refused`)
      read.present = new Set(found)
      read.searched = true
    } else if (presentOf !== undefined) {
      read.present = new Set()
    }
    return read
  } finally {
    lock.release()
  }
}

/** What turns a copy from one status into another: the flags to change, in order. */
function storesFor (from: Status, to: Status): Array<{ add: boolean, flags: string[] }> {
  if (to === 'deleted') return [{ add: true, flags: ['\\Deleted'] }]
  if (to === 'read') return from === 'deleted' ? [{ add: false, flags: ['\\Deleted'] }, { add: true, flags: ['\\Seen'] }] : [{ add: true, flags: ['\\Seen'] }]
  return [{ add: false, flags: from === 'deleted' ? ['\\Seen', '\\Deleted'] : ['\\Seen'] }]
}

export interface StoreGroup { from: Status, to: Status, uids: number[] }

/**
 * Applies status changes to one mailbox with grouped `UID STORE … ±FLAGS.SILENT`.
 * Unconditional: the index may hold changes taken from spool events, newer than the
 * MODSEQ it last read, so an UNCHANGEDSINCE would refuse them wrongly. A user's change
 * racing the STORE reaches the bridge as its own event, after it, and wins as the newer.
 */
export async function storeGroups (client: ImapFlow, mailbox: string, groups: StoreGroup[]): Promise<number> {
  const lock = await client.getMailboxLock(mailbox)
  let stored = 0
  try {
    for (const group of groups) {
      for (let i = 0; i < group.uids.length; i += BRIDGE_STORE_UIDS) {
        const range = group.uids.slice(i, i + BRIDGE_STORE_UIDS).join(',')
        const options = { uid: true, silent: true }
        for (const step of storesFor(group.from, group.to)) {
          const ok = step.add ? await client.messageFlagsAdd(range, step.flags, options) : await client.messageFlagsRemove(range, step.flags, options)
          if (!ok) throw new Error(`UID STORE in ${JSON.stringify(mailbox)} failed`)
        }
        stored += Math.min(BRIDGE_STORE_UIDS, group.uids.length - i)
      }
    }
  } finally {
    lock.release()
  }
  return stored
}
