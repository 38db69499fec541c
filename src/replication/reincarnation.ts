/**
 * A peer acknowledged more of this node's feed than it holds: its data directory is an
 * older copy. It takes a new incarnation and restarts every session, so that every peer
 * sees it and sends it the whole state, its own lost changes included (docs/protocol.md
 * "Incarnations"). One at a time; nothing after stop().
 */
import type { ErrorCode } from '../errors.js'
import type { StatusStore } from '../store/api.js'

export interface ReincarnationHost {
  readonly store: Pick<StatusStore, 'reincarnate'>
  stopped: () => boolean
  sessions: () => Iterable<{ fail: (code: ErrorCode, reason: string) => void }>
  onReincarnated: (incarnation: string) => void
  onError: (err: Error) => void
}

export class Reincarnation {
  readonly #host: ReincarnationHost
  #running = false

  constructor (host: ReincarnationHost) {
    this.#host = host
  }

  async run (): Promise<void> {
    if (this.#running || this.#host.stopped()) return
    this.#running = true
    try {
      const incarnation = await this.#host.store.reincarnate()
      this.#host.onReincarnated(incarnation)
      for (const s of this.#host.sessions()) s.fail('REINCARNATED', 'this node is a restored copy and took a new incarnation')
    } catch (err) {
      this.#host.onError(err as Error)
    } finally {
      this.#running = false
    }
  }
}
