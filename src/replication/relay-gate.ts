/**
 * Relay suppression towards one peer P (docs/protocol.md "Relays"). In a mesh where P
 * shares a link with an entry's origin O, P gets O's changes from O itself; relaying
 * them too would make every change reach every node once per path. So this node leaves
 * out an entry of origin O for P while P reports its link to O up, and remembers what it
 * left out until P confirms it has O's changes that far (`have`, the highest timestamp of
 * O's own changes P durably took from O). If P reports the link down (or a session
 * ends before P confirmed), what is still unconfirmed is sent again.
 */
import { MAX_RELAY_PENDING_BLOCKS } from '../limits.js'

/** What P reports about its link to one of its own peers. */
export interface LinkReport {
  up: boolean
  /** Highest `ts` of that peer's own changes P durably applied from that peer's stream. */
  have: number
}

/** Entries of one origin left out of one batch: the lowest seq and the highest ts. */
export interface LeftOut {
  firstSeq: number
  maxTs: number
}

export class RelayGate {
  /** Nodes P shares a link with in the mesh (this node excluded): their changes reach P directly. */
  readonly #direct: ReadonlySet<string>
  /** P's last report in this session; none yet: every entry goes. */
  #reports: ReadonlyMap<string, LinkReport> | undefined
  /** Per origin, left-out batches P has not confirmed yet, oldest first. */
  readonly #pending = new Map<string, LeftOut[]>()

  constructor (direct: ReadonlySet<string>) {
    this.#direct = direct
  }

  /** A new session with P: until it reports again, nothing is left out. */
  newSession (): void {
    this.#reports = undefined
  }

  /**
   * The relay rule (docs/protocol.md §5a) for an entry that P did not send: this node's own
   * changes (made here or taken back, `self` = origin) always go; so do P's own ones that came
   * through another node (P is not in #direct); another origin's, unless left out for P now.
   */
  sends (e: { from?: string, origin: string, seq: number, ts: number }, self: string, batch: Map<string, LeftOut>): boolean {
    if (e.from === undefined || e.origin === self) return true
    return !this.leaveOut(e.origin, e.seq, e.ts, batch)
  }

  /**
   * Whether the entry may be left out for P now. An entry P confirmed already needs no
   * record; otherwise it is added to `batch` (per origin), which `sent` keeps.
   */
  leaveOut (origin: string, seq: number, ts: number, batch: Map<string, LeftOut>): boolean {
    if (!this.#direct.has(origin)) return false
    const report = this.#reports?.get(origin)
    if (report === undefined || !report.up) return false
    if (ts <= report.have) return true
    // Too much unconfirmed (P stopped confirming): send it, bounded memory.
    if ((this.#pending.get(origin)?.length ?? 0) >= MAX_RELAY_PENDING_BLOCKS) return false
    const left = batch.get(origin)
    if (left === undefined) batch.set(origin, { firstSeq: seq, maxTs: ts })
    else left.maxTs = Math.max(left.maxTs, ts)
    return true
  }

  /** The batch that left these out was sent. */
  sent (batch: ReadonlyMap<string, LeftOut>): void {
    for (const [origin, left] of batch) {
      const list = this.#pending.get(origin)
      if (list === undefined) this.#pending.set(origin, [left])
      else list.push(left)
    }
  }

  /**
   * P's report. Confirmed entries are forgotten; for a link reported down (or not at
   * all) the unconfirmed ones must be sent again: returns the seq to resend after.
   */
  report (links: ReadonlyMap<string, LinkReport>): number | undefined {
    this.#reports = links
    let resendAfter: number | undefined
    for (const [origin, list] of this.#pending) {
      const report = links.get(origin)
      if (report === undefined || !report.up) {
        resendAfter = Math.min(resendAfter ?? Infinity, list[0].firstSeq - 1)
        this.#pending.delete(origin)
        continue
      }
      let confirmed = 0
      while (confirmed < list.length && list[confirmed].maxTs <= report.have) confirmed++
      if (confirmed === list.length) this.#pending.delete(origin)
      else if (confirmed > 0) list.splice(0, confirmed)
    }
    return resendAfter
  }

  /** The lowest seq left out and not confirmed: a persisted cursor stays below it. */
  lowestPending (): number | undefined {
    let lowest: number | undefined
    for (const list of this.#pending.values()) lowest = Math.min(lowest ?? Infinity, list[0].firstSeq)
    return lowest
  }
}

/** Per node, the nodes it shares a link with, from the mesh's links (the same on every host). */
export function linkedNodes (links: ReadonlyArray<readonly [string, string]>): Map<string, Set<string>> {
  const linked = new Map<string, Set<string>>()
  for (const [a, b] of links) {
    if (a === b) continue
    if (!linked.has(a)) linked.set(a, new Set())
    if (!linked.has(b)) linked.set(b, new Set())
    linked.get(a)?.add(b)
    linked.get(b)?.add(a)
  }
  return linked
}
