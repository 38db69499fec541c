/**
 * Purge: removes feed entries (and their per-user log index keys) from the oldest on,
 * while their local time is older than the horizon, and the discarded changes kept for
 * `explain` by the same horizon. Chunk by chunk, each a solo job of the write queue:
 * bounded memory, and writes are not held up for long.
 *
 * It stops at the first entry that is not old enough, even if later entries
 * are (possible only if the wall clock went backwards): the feed stays one
 * contiguous run of seqs from `oldestSeq` to `lastSeq`, which is what lets a
 * peer's cursor say exactly what it has missed. Such entries are removed once
 * the ones before them expire. Winners and unread tables are never touched.
 */
import type { Level } from 'level'
import { PURGE_CHUNK_ENTRIES } from '../limits.js'
import type { StoreAccess } from './access.js'
import { decodeFeed } from './codec.js'
import { purgeDiscards } from './discards.js'
import { FAMILY, feedKey, logKey, seqOfKey } from './keys.js'

export interface PurgeChunk {
  removed: number
  oldestSeq: number
  /** No more entries to purge under this horizon. */
  done: boolean
}

export async function purgeChunk (
  db: Level<Buffer, Buffer>, oldestSeq: number, lastSeq: number, olderThan: number, chunk: number, options: { sync: boolean }
): Promise<PurgeChunk> {
  const rows = await db.iterator({ gte: feedKey(oldestSeq), lt: Buffer.of(FAMILY.feed + 1), limit: chunk }).all()
  const ops: Array<{ type: 'del', key: Buffer }> = []
  let next = oldestSeq
  let done = rows.length < chunk
  for (const [key, value] of rows) {
    const entry = decodeFeed(value)
    if (entry.localTime >= olderThan) {
      done = true
      break
    }
    const seq = seqOfKey(key)
    ops.push({ type: 'del', key }, { type: 'del', key: logKey(entry.user, seq) })
    next = seq + 1
  }
  if (ops.length > 0) await db.batch(ops, options)
  // Everything was purged: the feed is empty and the next entry will be lastSeq + 1.
  const removedAll = done && ops.length / 2 === rows.length
  return { removed: ops.length / 2, oldestSeq: removedAll ? lastSeq + 1 : next, done }
}

/** The feed's bounds, which a purge moves (the store's `oldestSeq`). */
export interface FeedBounds {
  oldestSeq: () => number
  lastSeq: () => number
  /** A chunk is durable: the feed now starts at `oldestSeq`. */
  purged: (oldestSeq: number) => void
}

/** Purges everything older than `olderThan` (ms); returns how many feed entries went. */
export async function purgeOlderThan (access: StoreAccess, bounds: FeedBounds, olderThan: number): Promise<number> {
  access.writable()
  if (!Number.isFinite(olderThan)) throw new TypeError('olderThan must be a time in ms')
  let removed = 0
  for (;;) {
    access.writable() // a close() or a fault between chunks ends the purge
    const chunk = await access.solo(async db => {
      const result = await purgeChunk(db, bounds.oldestSeq(), bounds.lastSeq(), olderThan, PURGE_CHUNK_ENTRIES, access.sync())
      bounds.purged(result.oldestSeq)
      return result
    })
    removed += chunk.removed
    if (chunk.done) break
  }
  await purgeAllDiscards(access, olderThan)
  return removed
}

/** Discarded changes go with the log: chunk by chunk, by the same horizon. */
async function purgeAllDiscards (access: StoreAccess, olderThan: number): Promise<void> {
  let after: Buffer | null = null
  do {
    access.writable()
    const from: Buffer | null = after
    after = (await access.solo(async db => await purgeDiscards(db, from, olderThan, PURGE_CHUNK_ENTRIES, access.sync()))).next
  } while (after !== null)
}
