/**
 * One chunk of a purge: deletes feed entries (and their per-user log index
 * keys) from the oldest on, while their local time is older than the horizon.
 *
 * It stops at the first entry that is not old enough, even if later entries
 * are (possible only if the wall clock went backwards): the feed stays one
 * contiguous run of seqs from `oldestSeq` to `lastSeq`, which is what lets a
 * peer's cursor say exactly what it has missed. Such entries are removed once
 * the ones before them expire. Winners and unread tables are never touched.
 */
import type { Level } from 'level'
import { decodeFeed } from './codec.js'
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
