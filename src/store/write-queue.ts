/**
 * Serializes every write of the store. LevelDB promises no order between
 * parallel writes, and precedence reads plus seq assignment are only correct
 * if each write sees the one before it committed. Jobs waiting while a write
 * is in flight are handed over together, so the store can group-commit them
 * in one batch (one fsync for many callers under `sync` durability).
 */
export interface QueuedJob {
  /** Changes the job carries; groups stay under the queue's limit. */
  size: number
  /** A job that must not share its batch with others (purge chunks, cursors). */
  alone: boolean
}

export class WriteQueue<J extends QueuedJob> {
  readonly #pending: J[] = []
  readonly #runGroup: (jobs: J[]) => Promise<void>
  readonly #maxGroupSize: number
  #running: Promise<void> | null = null

  /**
   * @param runGroup writes one group; must settle every job itself and never reject.
   * @param maxGroupSize most changes in one group (a single larger job still runs alone).
   */
  constructor (runGroup: (jobs: J[]) => Promise<void>, maxGroupSize: number) {
    this.#runGroup = runGroup
    this.#maxGroupSize = maxGroupSize
  }

  push (job: J): void {
    this.#pending.push(job)
    if (this.#running === null) this.#running = this.#drain()
  }

  /** Resolves once every job pushed so far has been written. */
  async idle (): Promise<void> {
    while (this.#running !== null) await this.#running
  }

  async #drain (): Promise<void> {
    while (this.#pending.length > 0) {
      // Let callers just resolved by the last group queue their next write first
      // (their continuations are a few promise hops away), so it joins this group
      // instead of waiting for the next fsync. Costs one event-loop turn per group.
      await new Promise(resolve => setImmediate(resolve))
      await this.#runGroup(this.#takeGroup())
    }
    this.#running = null
  }

  #takeGroup (): J[] {
    const first = this.#pending.shift() as J
    const group = [first]
    if (first.alone) return group
    let size = first.size
    while (this.#pending.length > 0) {
      const next = this.#pending[0]
      if (next.alone || size + next.size > this.#maxGroupSize) break
      group.push(next)
      size += next.size
      this.#pending.shift()
    }
    return group
  }
}
