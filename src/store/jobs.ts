import type { HybridClock } from '../hlc.js'
import { physicalMs } from '../hlc.js'
import type { ApplyResult, Change, LocalChange, LogEntry } from '../types.js'
import type { ChangeBatch } from './change-batch.js'
import { compareChanges } from './precedence.js'
import type { WinnerRecord } from './codec.js'
import { discardKey, encodeDiscard } from './discards.js'

/**
 * The jobs of the store's write queue. Change jobs of one group share one ChangeBatch
 * (one atomic write, one fsync); a solo job does its own write.
 */
export interface ChangeJob {
  alone: false
  size: number
  /** The pairs the job touches: the group reads their winners in one go. */
  pairs: Array<{ user: string, message: string }>
  /** Adds the job's writes to the batch; returns what to do once the batch is durable. */
  apply: (batch: ChangeBatch, localTime: number) => Promise<() => void>
  reject: (err: unknown) => void
}

export interface SoloJob {
  alone: true
  size: number
  /** Does its own write; settles its caller itself and never rejects. */
  run: () => Promise<void>
}

export type Job = ChangeJob | SoloJob

/**
 * Runs `run` as a solo job of `queue` (no other write meanwhile) and settles with it;
 * `failed` maps its error inside the job, before the next job runs (the store turns a
 * failed write into its fault there).
 */
export async function runAlone<T> (queue: { push: (job: SoloJob) => void }, run: () => Promise<T>, failed: (err: unknown) => unknown = err => err): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    queue.push({ alone: true, size: 1, run: async () => { await run().then(resolve, err => reject(failed(err))) } })
  })
}

/**
 * `mark`: fresh timestamps from this node's clock, this node as origin; with `skipUnchanged`,
 * a change to the status its message already has is left out.
 */
export function markJob (clean: LocalChange[], skipUnchanged: boolean, nodeId: string, clock: HybridClock, resolve: (entries: LogEntry[]) => void, reject: (err: unknown) => void): ChangeJob {
  return {
    alone: false,
    size: clean.length,
    pairs: clean,
    reject,
    apply: async (batch) => {
      await batch.load(clean)
      const entries: LogEntry[] = []
      for (const c of clean) {
        if (skipUnchanged && batch.winner(c.user, c.message)?.status === c.status) continue
        const ts = clock.now()
        // On the origin, local time is the origin time: the time this node's clock gave the change.
        entries.push(batch.enter({ user: c.user, message: c.message, status: c.status, origin: nodeId, ts }, physicalMs(ts)))
      }
      return () => resolve(entries)
    }
  }
}

/** `applyRemote`: each change enters only if it beats the current winner. */
export function applyJob (clean: Change[], from: string | undefined, clock: HybridClock, resolve: (result: ApplyResult) => void, reject: (err: unknown) => void): ChangeJob {
  return {
    alone: false,
    size: clean.length,
    pairs: clean,
    reject,
    apply: async (batch, localTime) => {
      // Merge the greatest ts into the clock first: `receive` refuses it (CLOCK_SKEW) if it is
      // too far ahead, and then the whole call is refused before anything is read or written,
      // instead of one bad timestamp dragging this node's clock (and all its later changes) along.
      // Stale and duplicate changes are merged too: they were seen.
      let greatest = 0
      for (const c of clean) if (c.ts > greatest) greatest = c.ts
      clock.receive(greatest)
      await batch.load(clean)
      const result: ApplyResult = { entered: [], stale: 0, duplicate: 0 }
      for (const c of clean) {
        const order = compareChanges(c, batch.winner(c.user, c.message))
        if (order > 0) result.entered.push(batch.enter(c, localTime, from))
        else if (order === 0) result.duplicate++
        else {
          result.stale++
          batch.put(discardKey(c), encodeDiscard(c, localTime, from, batch.winner(c.user, c.message) as WinnerRecord))
        }
      }
      return () => resolve(result)
    }
  }
}
