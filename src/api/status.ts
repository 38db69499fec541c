/**
 * The body of GET /v1/status: the node, its peers and the mesh as seen from here
 * (docs/operations.md "GET /v1/status"). What the status page shows comes from here.
 */
import { physicalMs } from '../hlc.js'
import type { OriginView } from '../daemon/origin-view.js'
import type { Throughput } from '../daemon/throughput.js'
import type { PeerStatus, StoreHealth } from '../contracts.js'
import type { StatusStore } from '../store/api.js'

/** What only the daemon knows: the configured mesh, counters' rates, origins seen. */
export interface StatusOverview {
  /** Node ids and links of the mesh file. */
  nodes: string[]
  links: Array<[string, string]>
  throughput: Throughput
  origins: OriginView
  /** The clock offset this node measured to a peer at a time (for explain); null if unknown. */
  offsetAt: (peer: string, time: number) => number | null
}

export interface PeerView extends PeerStatus {
  /** Age of the oldest local entry the peer has not acknowledged, in ms (0 when none). */
  lagMs: number
  /** Per-second rates over `throughput.windowMs`. */
  rates: { entriesInPerSec: number, bytesInPerSec: number, bytesOutPerSec: number }
}

/** Counter names sampled for the rates (see Daemon). */
export const counterKey = (peer: string, what: 'entriesIn' | 'bytesIn' | 'bytesOut'): string => `peer:${peer}:${what}`

export function countersOf (store: StatusStore, peers: PeerStatus[]): Record<string, number> {
  const counters: Record<string, number> = { entries: store.lastSeq }
  for (const p of peers) {
    counters[counterKey(p.id, 'entriesIn')] = p.entriesEntered
    counters[counterKey(p.id, 'bytesIn')] = p.bytesReceived
    counters[counterKey(p.id, 'bytesOut')] = p.bytesSent
  }
  return counters
}

/** How long the oldest local entry the peer has not acknowledged has waited, in ms (0 when none): 0 on a healthy idle link. */
export async function peerLagMs (store: Pick<StatusStore, 'feed'>, peer: PeerStatus, now: number): Promise<number> {
  if (peer.behind === 0) return 0
  const [first] = await store.feed(peer.cursor, 1)
  return first === undefined ? 0 : Math.max(0, now - first.localTime)
}

async function peerViews (store: StatusStore, peers: PeerStatus[], now: number, overview?: StatusOverview): Promise<PeerView[]> {
  const rate = (id: string, what: 'entriesIn' | 'bytesIn' | 'bytesOut'): number => overview?.throughput.perSecond(counterKey(id, what)) ?? 0
  return await Promise.all(peers.map(async p => ({
    ...p,
    lagMs: await peerLagMs(store, p, now),
    rates: { entriesInPerSec: rate(p.id, 'entriesIn'), bytesInPerSec: rate(p.id, 'bytesIn'), bytesOutPerSec: rate(p.id, 'bytesOut') }
  })))
}

function meshView (self: string, peers: PeerStatus[], overview: StatusOverview): object {
  const byId = new Map(peers.map(p => [p.id, p]))
  const nodes = overview.nodes.map(id => {
    const peer = byId.get(id)
    const seen = overview.origins.get(id)
    return {
      id,
      role: id === self ? 'self' : peer !== undefined ? 'peer' : 'remote',
      connected: peer === undefined ? null : peer.connected,
      entriesSeen: seen?.entries ?? 0,
      lastOriginTime: seen?.lastOriginTime ?? null,
      lastLocalTime: seen?.lastLocalTime ?? null,
      apparentDelayMs: seen === undefined || id === self ? null : seen.apparentDelayMs
    }
  })
  const links = overview.links.map(([a, b]) => {
    const other = a === self ? b : b === self ? a : undefined
    const peer = other === undefined ? undefined : byId.get(other)
    return { nodes: [a, b], state: peer === undefined ? 'unknown' : peer.connected ? 'up' : 'down' }
  })
  return { nodes, links }
}

/** What status and health say about the store: `ok`, or `failing` with the fault. */
export function storeHealth (store: StatusStore): StoreHealth {
  const fault = store.fault
  return fault === null ? { state: 'ok' } : { state: 'failing', ...fault }
}

export interface StatusInput {
  store: StatusStore
  cluster: string
  retentionMs: number
  peers: PeerStatus[]
  overview?: StatusOverview
}

export async function nodeStatus (input: StatusInput): Promise<object> {
  const { store, overview } = input
  const hlc = store.clock.last
  const wallTime = store.clock.wallTime()
  return {
    node: store.nodeId,
    incarnation: store.incarnation,
    cluster: input.cluster,
    seq: store.lastSeq,
    oldestSeq: store.oldestSeq,
    hlc,
    hlcPhysicalMs: physicalMs(hlc),
    wallTime,
    clockCorrectionMs: store.clock.correctionMs,
    durability: store.durability,
    retentionMs: input.retentionMs,
    store: storeHealth(store),
    throughput: { windowMs: overview?.throughput.windowMs ?? 0, entriesPerSec: overview?.throughput.perSecond('entries') ?? 0 },
    peers: await peerViews(store, input.peers, wallTime, overview),
    mesh: overview === undefined ? null : meshView(store.nodeId, input.peers, overview)
  }
}
