import type { Change, MessageState } from '../../src/types.js'
import type { AckedChange, UncertainChange } from './workload.js'

/** What one node reported after quiescence: its full winners dump and unread tables. */
export interface NodeDump {
  node: string
  winners: MessageState[]
  /** Per user: the unread message ids (in the order the API listed them) and the count it reported. */
  unread: Map<string, { messages: string[], count: number }>
}

export interface CheckInput {
  dumps: readonly NodeDump[]
  acked: readonly AckedChange[]
  uncertain: readonly UncertainChange[]
  /** When a node's data was wiped or replaced by an older copy (same clock as `ackedAt`). */
  restores?: ReadonlyArray<{ node: string, at: number }>
}

export interface CheckResult {
  /** (user, message) pairs checked (union over nodes and acknowledged changes). */
  pairs: number
  /** Pairs whose winner differs between nodes, plus users whose unread table or count differs. */
  divergent: number
  /** Pairs whose winner is older than an acknowledged change for it (or missing). */
  lost: number
  /** Pairs whose winner nobody sent (not acknowledged, not in flight). */
  phantom: number
  /** (node, user) whose unread table or count disagrees with that node's winners. */
  unreadMismatch: number
  /** Pairs won by a change that was in flight without an answer (allowed). */
  wonByUncertain: number
  /** The first problems, readable. */
  details: string[]
}

/** Most problem lines kept in `details`. */
export const MAX_DETAILS = 50

/** Precedence: `(ts, origin)`; origin ids are ASCII, so string order is byte order. */
export function compareChanges (x: Pick<Change, 'ts' | 'origin'>, y: Pick<Change, 'ts' | 'origin'>): number {
  if (x.ts !== y.ts) return x.ts < y.ts ? -1 : 1
  if (x.origin === y.origin) return 0
  return x.origin < y.origin ? -1 : 1
}

function key (user: string, message: string): string {
  return JSON.stringify([user, message])
}

function same (x: Change | undefined, y: Change | undefined): boolean {
  if (x === undefined || y === undefined) return x === y
  return x.ts === y.ts && x.origin === y.origin && x.status === y.status
}

function show (c: Change | undefined): string {
  return c === undefined ? 'none' : `${c.status}@${c.ts}/${c.origin}`
}

/**
 * The checker: convergence, no acknowledged change lost, no phantom winner, unread tables
 * equal to what the winners imply. Pure: it works on dumps, so it is tested on synthetic ones.
 */
export function check (input: CheckInput): CheckResult {
  const result: CheckResult = { pairs: 0, divergent: 0, lost: 0, phantom: 0, unreadMismatch: 0, wonByUncertain: 0, details: [] }
  const note = (line: string): void => { if (result.details.length < MAX_DETAILS) result.details.push(line) }

  const winnersByNode = input.dumps.map(d => new Map(d.winners.map(w => [key(w.user, w.message), w])))
  const { acked, uncertain } = demoteRestored(input)
  const bestAck = new Map<string, AckedChange>()
  for (const ack of acked) {
    const k = key(ack.entry.user, ack.entry.message)
    const best = bestAck.get(k)
    if (best === undefined || compareChanges(ack.entry, best.entry) > 0) bestAck.set(k, ack)
  }
  const inFlight = new Map<string, UncertainChange[]>()
  for (const u of uncertain) {
    const k = key(u.user, u.message)
    const list = inFlight.get(k) ?? []
    list.push(u)
    inFlight.set(k, list)
  }

  const pairs = new Set<string>(bestAck.keys())
  for (const m of winnersByNode) for (const k of m.keys()) pairs.add(k)
  result.pairs = pairs.size

  for (const k of pairs) {
    const perNode = winnersByNode.map(m => m.get(k))
    const first = perNode[0]
    if (!perNode.every(w => same(w, first))) {
      result.divergent++
      note(`divergent ${k}: ${input.dumps.map((d, i) => `${d.node}=${show(perNode[i])}`).join(' ')}`)
    }
    const best = bestAck.get(k)
    let lostHere = false
    let phantomHere = false
    let uncertainHere = false
    perNode.forEach((w, i) => {
      const node = input.dumps[i]?.node ?? '?'
      if (best !== undefined && (w === undefined || compareChanges(w, best.entry) < 0)) {
        lostHere = true
        note(`lost ${k} on ${node}: winner ${show(w)} is older than acknowledged ${show(best.entry)} (via ${best.node})`)
        return
      }
      if (w === undefined) return
      if (best !== undefined && compareChanges(w, best.entry) === 0) {
        if (w.status !== best.entry.status) {
          phantomHere = true
          note(`phantom ${k} on ${node}: winner ${show(w)} has the acknowledged (ts, origin) with another status`)
        }
        return
      }
      // Greater than every acknowledged change: it must be a change sent without an answer.
      const candidates = inFlight.get(k) ?? []
      if (candidates.some(u => u.node === w.origin && u.status === w.status)) {
        uncertainHere = true
        return
      }
      phantomHere = true
      note(`phantom ${k} on ${node}: winner ${show(w)} was never sent (best acknowledged ${show(best?.entry)})`)
    })
    if (lostHere) result.lost++
    if (phantomHere) result.phantom++
    if (uncertainHere) result.wonByUncertain++
  }

  checkUnread(input.dumps, result, note)
  return result
}

/**
 * A change acknowledged by a node before the last time its data was wiped or restored from
 * an older copy may be gone with that data: it counts as sent without an answer. Only the
 * changes acknowledged after the last restore of their node must never be lost.
 */
function demoteRestored (input: CheckInput): { acked: AckedChange[], uncertain: UncertainChange[] } {
  const last = new Map<string, number>()
  for (const r of input.restores ?? []) last.set(r.node, Math.max(last.get(r.node) ?? 0, r.at))
  const acked: AckedChange[] = []
  const uncertain = [...input.uncertain]
  for (const a of input.acked) {
    const restoredAt = last.get(a.node)
    if (restoredAt === undefined || (a.ackedAt ?? 0) > restoredAt) acked.push(a)
    else uncertain.push({ user: a.entry.user, message: a.entry.message, status: a.entry.status, node: a.node, sentAt: a.ackedAt ?? 0, reason: 'acknowledged before its node was restored' })
  }
  return { acked, uncertain }
}

function checkUnread (dumps: readonly NodeDump[], result: CheckResult, note: (line: string) => void): void {
  const users = new Set<string>()
  for (const d of dumps) {
    for (const w of d.winners) users.add(w.user)
    for (const u of d.unread.keys()) users.add(u)
  }
  const digest = (d: NodeDump, user: string): string => {
    const t = d.unread.get(user)
    return JSON.stringify(t === undefined ? [[], 0] : [[...t.messages].sort(), t.count])
  }
  for (const user of users) {
    const reference = dumps[0] === undefined ? '' : digest(dumps[0], user)
    if (!dumps.every(d => digest(d, user) === reference)) {
      result.divergent++
      note(`divergent unread table of ${JSON.stringify(user)}: ${dumps.map(d => `${d.node}=${digest(d, user)}`).join(' ')}`)
    }
  }
  for (const d of dumps) {
    const implied = new Map<string, string[]>()
    for (const w of d.winners) {
      if (w.status !== 'unread') continue
      const list = implied.get(w.user) ?? []
      list.push(w.message)
      implied.set(w.user, list)
    }
    for (const user of users) {
      const want = (implied.get(user) ?? []).sort()
      const got = d.unread.get(user) ?? { messages: [], count: 0 }
      const listed = [...got.messages].sort()
      if (JSON.stringify(listed) !== JSON.stringify(want) || got.count !== want.length) {
        result.unreadMismatch++
        note(`unread of ${JSON.stringify(user)} on ${d.node}: listed ${listed.length}, count ${got.count}, winners imply ${want.length}`)
      }
    }
  }
}
