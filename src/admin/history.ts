/**
 * Explain: every change this node saw for one message, entered or discarded, in the
 * order it arrived, each with why it won or lost (docs/operations.md "Explain").
 * Entered changes come from the user's log (until purged), discarded ones from the
 * store's discard records; both carry the origin's clock and this node's.
 */
import { MAX_HISTORY_LOG_SCAN, MAX_HISTORY_ROWS, MAX_PAGE_ENTRIES } from '../limits.js'
import { physicalMs } from '../hlc.js'
import type { StatusStore } from '../store/api.js'
import type { DiscardRecord } from '../store/discards.js'
import type { LogEntry, MessageState, Status } from '../types.js'
import { checkMessage, checkUser } from '../validate.js'

export interface HistoryRow {
  outcome: 'entered' | 'discarded'
  status: Status
  origin: string
  ts: number
  /** The origin's clock when the change was made, in ms. */
  originTime: number
  /** This node's clock when the change arrived, in ms. */
  localTime: number
  /** `originTime - localTime`: the origin's clock minus ours, less the time the change took to arrive. */
  apparentOffsetMs: number
  /** The origin's clock minus ours as this node measured it when the change arrived (0 for its own); null if unknown. */
  originOffsetMs: number | null
  /** The peer it came from; null if made here (or imported). */
  from: string | null
  /** This node's seq for an entered change; null for a discarded one. */
  seq: number | null
  why: string
}

export interface MessageHistory {
  user: string
  message: string
  current: MessageState | null
  changes: HistoryRow[]
  /** The user's log was longer than MAX_HISTORY_LOG_SCAN: older entered changes may be missing. */
  truncated: boolean
  /** Lowest seq still in the log: entered changes before it were purged. */
  oldestSeq: number
}

interface Stamp { ts: number, origin: string, status?: Status }

function versus (loser: Stamp, winner: Stamp): string {
  if (loser.ts === winner.ts) return `the same timestamp, and origin "${winner.origin}" sorts after "${loser.origin}"`
  const ms = physicalMs(winner.ts) - physicalMs(loser.ts)
  return ms === 0 ? 'a later timestamp (same millisecond, later logical counter)' : `a timestamp ${ms} ms later`
}

async function enteredOf (store: StatusStore, user: string, message: string): Promise<{ entries: LogEntry[], truncated: boolean }> {
  const entries: LogEntry[] = []
  let after = 0
  for (let scanned = 0; scanned < MAX_HISTORY_LOG_SCAN;) {
    const page = await store.log(user, { after, limit: Math.min(MAX_PAGE_ENTRIES, MAX_HISTORY_LOG_SCAN - scanned) })
    for (const e of page) if (e.message === message && entries.length < MAX_HISTORY_ROWS) entries.push(e)
    scanned += page.length
    const last = page[page.length - 1]
    if (last === undefined || page.length < MAX_PAGE_ENTRIES) return { entries, truncated: false }
    after = last.seq
  }
  return { entries, truncated: true }
}

/** The measured clock offset of a peer at a time (OffsetHistory.at); null if unknown. */
export type OffsetAt = (peer: string, time: number) => number | null

function enteredRows (entries: LogEntry[], current: MessageState | undefined, offsetAt: OffsetAt): HistoryRow[] {
  return entries.map((e, i) => {
    const before = entries[i - 1]
    const next = entries[i + 1]
    let why = before === undefined
      ? 'entered: no earlier status of this message was in the log here'
      : `entered: beat the ${before.status} of ${before.origin} (seq ${before.seq}) with ${versus(before, e)}`
    if (current?.seq === e.seq) why += '; the current status'
    else if (next !== undefined) why += `; later beaten by seq ${next.seq}`
    return {
      outcome: 'entered', status: e.status, origin: e.origin, ts: e.ts, originTime: e.originTime, localTime: e.localTime,
      apparentOffsetMs: e.originTime - e.localTime, originOffsetMs: offsetAt(e.origin, e.localTime), from: e.from ?? null, seq: e.seq, why
    }
  })
}

function discardedRow (d: DiscardRecord, offsetAt: OffsetAt): HistoryRow {
  const originTime = physicalMs(d.ts)
  const winner = { ts: d.winnerTs, origin: d.winnerOrigin }
  const why = `discarded: lost to the winner then, from ${d.winnerOrigin} (ts ${d.winnerTs}), which has ${versus(d, winner)}`
  return {
    outcome: 'discarded', status: d.status, origin: d.origin, ts: d.ts, originTime, localTime: d.localTime,
    apparentOffsetMs: originTime - d.localTime, originOffsetMs: offsetAt(d.origin, d.localTime), from: d.from ?? null, seq: null, why
  }
}

export async function messageHistory (store: StatusStore, user: string, message: string, peerOffsetAt: OffsetAt = () => null): Promise<MessageHistory> {
  const offsetAt: OffsetAt = (origin, time) => origin === store.nodeId ? 0 : peerOffsetAt(origin, time)
  checkUser(user)
  checkMessage(message)
  const [current, log, discarded] = await Promise.all([store.get(user, message), enteredOf(store, user, message), store.discarded(user, message)])
  const changes = [...enteredRows(log.entries, current, offsetAt), ...discarded.map(d => discardedRow(d, offsetAt))]
  changes.sort((a, b) => a.localTime - b.localTime || (a.seq ?? Infinity) - (b.seq ?? Infinity))
  return { user, message, current: current ?? null, changes, truncated: log.truncated, oldestSeq: store.oldestSeq }
}
