/**
 * What this node knows of one peer's incarnation, and what it concludes from the
 * peer's handshake (docs/protocol.md "Incarnations"). A peer that is a new incarnation
 * (a wiped data directory), or whose feed is behind what this node acknowledged of it
 * (a restored copy), lost state: this node trusts no cursor with it any more and sends
 * it a full state transfer, its own changes included, before anything else.
 */
import type { IncarnationClaim } from '../protocol/index.js'
import type { StatusStore } from '../store/api.js'
import type { PeerRecord } from '../store/peer-record.js'
import { PEER_STATE_PERSIST_MS } from '../limits.js'
import { LazyPersist } from './lazy-persist.js'

export type IncarnationStore = Pick<StatusStore, 'getPeerRecord' | 'setPeerRecord'>

/** `trusted`: cursors stand. `new-incarnation` / `behind`: the peer lost state. */
export type ClaimVerdict = 'trusted' | 'new-incarnation' | 'behind'

export class PeerIncarnation {
  readonly #store: IncarnationStore
  readonly #peer: string
  #record: PeerRecord = { incarnation: '', acked: 0, resync: false }
  readonly #persist: LazyPersist

  constructor (store: IncarnationStore, peer: string) {
    this.#store = store
    this.#peer = peer
    // A failed write is not retried: the record is written again with the next change.
    this.#persist = new LazyPersist(async () => { await this.#store.setPeerRecord(this.#peer, this.#record) }, PEER_STATE_PERSIST_MS)
  }

  async load (): Promise<void> {
    this.#record = await this.#store.getPeerRecord(this.#peer)
  }

  /** The peer must get a full state transfer before its cursor is trusted. */
  get resync (): boolean { return this.#record.resync }

  /** What this node tells the peer of itself in the handshake. */
  known (): IncarnationClaim {
    return { peerIncarnation: this.#record.incarnation, peerSeq: this.#record.acked }
  }

  /** Judges the peer's handshake claim and records what follows from it. */
  judge (claim: IncarnationClaim): ClaimVerdict {
    const r = this.#record
    if (claim.incarnation === undefined) return 'trusted' // a peer without incarnations: as before
    if (r.incarnation === '') {
      this.#save({ ...r, incarnation: claim.incarnation })
      return 'trusted'
    }
    if (r.incarnation !== claim.incarnation) {
      this.#save({ incarnation: claim.incarnation, acked: 0, resync: true })
      return 'new-incarnation'
    }
    if ((claim.seq ?? r.acked) < r.acked) {
      // A restored copy: it takes a new incarnation when it learns this; adopt that one without a second reset.
      this.#save({ incarnation: '', acked: 0, resync: true })
      return 'behind'
    }
    return 'trusted'
  }

  /** This node acknowledged the peer's feed up to `seq`. */
  acked (seq: number): void {
    if (seq > this.#record.acked) this.#save({ ...this.#record, acked: seq })
  }

  /** The full state transfer to the peer was acknowledged. */
  resynced (): void {
    if (this.#record.resync) this.#save({ ...this.#record, resync: false })
  }

  async idle (): Promise<void> {
    await this.#persist.flush()
  }

  /** Kept in memory at once; persisted in order, coalesced, like the cursor (lazy-persist.ts). */
  #save (record: PeerRecord): void {
    this.#record = record
    this.#persist.changed()
  }
}
