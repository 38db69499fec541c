/**
 * The newest entries of the feed, in memory, as they were committed. The feed's readers (a
 * sender per peer, the Dovecot bridge, `GET /v1/changes`) mostly ask for what was entered a
 * moment ago: served from here, that costs no LevelDB iterator and no decoding. A ring of
 * `capacity` entries with contiguous seqs, ending at the store's last seq; a read it cannot
 * serve whole goes to disk.
 */
import type { LogEntry } from '../types.js'

export class RecentFeed {
  readonly #ring: Array<LogEntry | undefined>
  /** Seq of the oldest entry held (`#next` when empty). */
  #first = 1
  /** Seq the next committed entry will have. */
  #next = 1

  constructor (readonly capacity: number) {
    this.#ring = new Array<LogEntry | undefined>(capacity)
  }

  /** Forgets every entry: the feed goes on after `lastSeq` (a store opened or reopened). */
  reset (lastSeq: number): void {
    this.#ring.fill(undefined)
    this.#first = this.#next = lastSeq + 1
  }

  /** Entries just committed, in seq order. */
  committed (entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      // Never expected (the store commits contiguous seqs): start afresh rather than serve a gap.
      if (entry.seq !== this.#next) this.reset(entry.seq - 1)
      this.#ring[entry.seq % this.capacity] = entry
      this.#next = entry.seq + 1
      if (this.#next - this.#first > this.capacity) this.#first = this.#next - this.capacity
    }
  }

  /**
   * The entries after `after`, at most `limit`, as the disk would give them; undefined when
   * the ring does not hold `after + 1` (older than what it keeps, or purged: read the disk).
   */
  after (after: number, limit: number, oldestSeq: number): LogEntry[] | undefined {
    const from = after + 1
    if (from < this.#first || from < oldestSeq) return undefined
    const out: LogEntry[] = []
    const end = Math.min(this.#next, from + limit)
    for (let seq = from; seq < end; seq++) out.push(this.#ring[seq % this.capacity] as LogEntry)
    return out
  }
}
