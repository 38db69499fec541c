import type { MessageState } from '../types.js'
import { entryWireBytes } from '../protocol/index.js'

/**
 * One state transfer being sent: every current winner, read from the store's snapshot in
 * chunks that respect the batch limits. Used when the peer's cursor is older than the
 * oldest entry still in the feed (docs/protocol.md "State transfer").
 */
export class StateTransfer {
  /** The sender's lastSeq when the transfer began; the cursor once it is acknowledged. */
  readonly seq: number
  #chunk = 0
  #done = false
  readonly #iter: AsyncIterator<MessageState>
  /** A winner read but not sent yet (it did not fit the previous chunk). */
  #pending: MessageState | undefined
  #aborted = false

  constructor (seq: number, winners: AsyncIterable<MessageState>) {
    this.seq = seq
    this.#iter = winners[Symbol.asyncIterator]()
  }

  /** The number of the last chunk sent. */
  get chunk (): number { return this.#chunk }
  /** The last winner was read. */
  get done (): boolean { return this.#done }

  /** Counts the chunk just read as sent; returns its number (1, 2, ...). */
  sent (): number {
    return ++this.#chunk
  }

  abort (): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#iter.return?.().catch(() => {})
  }

  /** The next chunk, at most `maxEntries` winners and `maxBytes` (but at least one); undefined if aborted meanwhile. */
  async nextChunk (maxEntries: number, maxBytes: number): Promise<MessageState[] | undefined> {
    const out: MessageState[] = []
    let bytes = 0
    while (out.length < maxEntries) {
      let next = this.#pending
      this.#pending = undefined
      if (next === undefined) {
        const r = await this.#iter.next()
        if (this.#aborted) return undefined
        if (r.done === true) {
          this.#done = true
          break
        }
        next = r.value
      }
      const b = entryWireBytes(next)
      if (out.length > 0 && bytes + b > maxBytes) {
        this.#pending = next
        break
      }
      bytes += b
      out.push(next)
    }
    return out
  }
}
