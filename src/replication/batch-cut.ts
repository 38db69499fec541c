/**
 * What one feed batch carries (docs/protocol.md "Feed"): the entries read after `prev`, up
 * to the batch's byte limit, less those the peer need not get: its own (it sent them),
 * superseded ones (a later entry of the same message beats them) and relays it gets from
 * their origin directly (relay-gate.ts). The batch still ends at the seq of the last entry
 * it covers, carried or not, so the peer's order checks see no gap.
 */
import { entryWireBytes } from '../protocol/index.js'
import type { LogEntry } from '../types.js'
import type { LeftOut, RelayGate } from './relay-gate.js'

export interface BatchRules {
  /** The peer's node id. */
  peer: string
  /** This node's id (relays are changes of other origins). */
  nodeId: string
  batchBytes: number
  isSuperseded: (seq: number) => boolean
  relay: RelayGate
}

/** The entries of a batch within the byte limit, and the seq it ends at; left-out relays go into `leftOut`. */
export function cutBatch (entries: LogEntry[], after: number, rules: BatchRules, leftOut: Map<string, LeftOut>): { out: LogEntry[], last: number } {
  const out: LogEntry[] = []
  let bytes = 0
  let last = after
  for (const e of entries) {
    if (needs(e, rules, leftOut)) {
      const b = entryWireBytes(e)
      if (out.length > 0 && bytes + b > rules.batchBytes) break
      bytes += b
      out.push(e)
    }
    last = e.seq
  }
  return { out, last }
}

function needs (e: LogEntry, rules: BatchRules, leftOut: Map<string, LeftOut>): boolean {
  if (e.from === rules.peer || rules.isSuperseded(e.seq)) return false
  return rules.relay.sends(e, rules.nodeId, leftOut)
}
