/**
 * Which recent seqs of this node's feed hold an entry that a later entry of the same
 * (user, message) beat. A sender need not send those: the later entry reaches the peer
 * too, or the peer sent or made it itself (docs/protocol.md "Superseded entries").
 *
 * A ring of bits over the last SUPERSEDED_WINDOW_SEQS seqs (an eighth of a byte each),
 * in memory only: older seqs, and every seq after a restart until it is beaten again,
 * count as not superseded, which only means they are sent.
 */
export class SupersededSeqs {
  readonly #bits: Uint8Array
  readonly #window: number
  #lastSeq = 0

  constructor (windowSeqs: number) {
    this.#window = Math.max(8, Math.floor(windowSeqs / 8) * 8)
    this.#bits = new Uint8Array(this.#window / 8)
  }

  /** A committed batch: its new seqs start unbeaten, the winners it replaced are beaten. */
  committed (newSeqs: readonly number[], beaten: readonly number[]): void {
    for (const seq of newSeqs) {
      this.#set(seq, false) // the slot last held seq - window
      if (seq > this.#lastSeq) this.#lastSeq = seq
    }
    for (const seq of beaten) if (this.#inWindow(seq)) this.#set(seq, true)
  }

  has (seq: number): boolean {
    if (!this.#inWindow(seq)) return false
    const at = seq % this.#window
    return (this.#bits[at >>> 3] & (1 << (at & 7))) !== 0
  }

  #inWindow (seq: number): boolean {
    return seq > this.#lastSeq - this.#window && seq <= this.#lastSeq
  }

  #set (seq: number, on: boolean): void {
    const at = seq % this.#window
    if (on) this.#bits[at >>> 3] |= 1 << (at & 7)
    else this.#bits[at >>> 3] &= ~(1 << (at & 7))
  }
}
