/**
 * Tells every peer the state of this node's links (`links` frames, docs/protocol.md
 * "Relays"): at once when a link goes up or down, and every LINK_REPORT_MS while
 * only `have` moved. Peers use it to leave out relays this node gets directly.
 */
import { LINK_REPORT_MS } from '../limits.js'
import type { LinkState } from '../protocol/index.js'
import type { PeerLink } from './peer-link.js'

export class LinkReports {
  readonly #links: readonly PeerLink[]
  #timer: NodeJS.Timeout | undefined
  #last = ''

  constructor (links: Iterable<PeerLink>) {
    this.#links = [...links]
  }

  start (): void {
    this.#timer = setInterval(() => { if (this.#key(this.#states()) !== this.#last) this.changed() }, LINK_REPORT_MS)
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  /**
   * A link went up or down (or `have` moved): every established session hears it now,
   * if it negotiated version 2: a version-1 peer (an older build) closes on the frame.
   */
  changed (): void {
    const peers = this.#states()
    this.#last = this.#key(peers)
    for (const link of this.#links) {
      const session = link.session
      if (session?.established === true && (session.version ?? 1) >= 2) session.send({ type: 'links', peers })
    }
  }

  #states (): LinkState[] {
    return this.#links.map(link => link.linkState())
  }

  #key (peers: LinkState[]): string {
    return peers.map(([id, up, have]) => `${id}:${up ? 1 : 0}:${have}`).join(',')
  }
}
