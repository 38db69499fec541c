import type { NodeStatusResponse, PeerStatus } from '../../contracts.js'
import { EXIT } from '../../daemon/exit-codes.js'
import { ago, isoTime, signedMs, span, table } from '../format.js'
import type { Io } from '../io.js'
import { clientFor } from '../target.js'
import { emit, type ClientArgs } from './client-commands.js'

/**
 * `marksync status`: the node and a table of its peers, as an admin on call needs it:
 * lag in entries and in time, the reason a peer is down (its last error), and which
 * clock is wrong. Exit 1 when the node has peers and none is connected.
 */
/** GET /v1/status as the API answers it: each peer with its lag in time (api/status.ts). */
export type StatusBody = Omit<NodeStatusResponse, 'peers'> & { peers: Array<PeerStatus & { lagMs: number }> }

export async function status (args: ClientArgs, io: Io): Promise<number> {
  const s = await clientFor(args).request<StatusBody>('GET', '/v1/status')
  emit(io, args, s, () => statusText(s))
  const allDown = s.peers.length > 0 && s.peers.every(p => !p.connected)
  return allDown ? EXIT.FAILURE : EXIT.OK
}

export function statusText (s: StatusBody): string {
  const now = s.wallTime
  const lines = [
    `node ${s.node} (cluster ${s.cluster})  seq ${s.seq}  oldest ${s.oldestSeq}  durability ${s.durability}`,
    `clock ${isoTime(s.wallTime)}  hlc ${isoTime(s.hlcPhysicalMs)}${s.clockCorrectionMs !== 0 ? `  correction ${signedMs(s.clockCorrectionMs)}` : ''}`
  ]
  const outlier = ownClockNote(s.clockCorrectionMs)
  if (outlier !== undefined) lines.push(outlier)
  if (s.peers.length === 0) return [...lines, 'no peers'].join('\n')
  const rows = s.peers.map(p => [
    p.id, connectedText(p, now), String(p.behind), span(p.lagMs), signedMs(p.clockOffsetMs), p.skewed ? 'SKEWED' : 'no',
    p.lastError === null ? '-' : `${p.lastError.code} ${ago(p.lastError.at, now)}`, p.url
  ])
  lines.push('', table(['PEER', 'CONNECTED', 'BEHIND', 'LAG', 'CLOCK OFFSET', 'SKEWED', 'LAST ERROR', 'URL'], rows))
  for (const p of s.peers) {
    if (!p.connected && p.lastError !== null) lines.push(`${p.id} is down: ${p.lastError.code}: ${p.lastError.reason}`)
  }
  if (s.peers.every(p => !p.connected)) lines.push('every peer is down: this node neither sends nor receives changes')
  return lines.join('\n')
}

function connectedText (p: PeerStatus, now: number): string {
  if (p.connected) return 'yes'
  return p.since === null ? 'no' : `no (since ${ago(p.since, now)})`
}

/** When the peers agree that this node's clock is off, say so: it is the outlier, not them. */
export function ownClockNote (correctionMs: number): string | undefined {
  if (correctionMs === 0) return undefined
  const way = correctionMs < 0 ? 'ahead of' : 'behind'
  return `THIS NODE'S CLOCK is ${span(Math.abs(correctionMs))} ${way} its peers, which agree with each other: fix this host's time (NTP); ` +
    'meanwhile its changes are stamped with the correction'
}
