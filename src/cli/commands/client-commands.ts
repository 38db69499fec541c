import type { ChangesResponse, LogResponse, MessageResponse, NodeStatusResponse, PurgeResponse, UnreadResponse } from '../../contracts.js'
import type { Status } from '../../types.js'
import { userPath } from '../client.js'
import { ago, isoTime, signedMs, table } from '../format.js'
import type { Io } from '../io.js'
import { clientFor, type TargetArgs } from '../target.js'

/**
 * The client subcommands: each calls one API route on the chosen node and prints
 * a human summary, or the API's JSON with --json.
 */
export interface ClientArgs extends TargetArgs {
  json?: boolean
}

function emit (io: Io, args: ClientArgs, json: unknown, human: () => string): void {
  io.out(args.json === true ? JSON.stringify(json, null, 2) : human())
}

export async function mark (args: ClientArgs & { user: string, messages: string[], status: Status }, io: Io): Promise<number> {
  const client = clientFor(args)
  const changes = args.messages.map(message => ({ user: args.user, message, status: args.status }))
  const result = await client.request<ChangesResponse>('POST', '/v1/changes', { changes })
  emit(io, args, result, () => result.entries.map(e => `${e.user} ${e.message}: ${e.status} (origin ${e.origin}, seq ${e.seq}, ts ${e.ts})`).join('\n'))
  return 0
}

export async function unread (args: ClientArgs & { user: string, limit?: number, after?: string }, io: Io): Promise<number> {
  const client = clientFor(args)
  const query = new URLSearchParams()
  if (args.limit !== undefined) query.set('limit', String(args.limit))
  if (args.after !== undefined) query.set('after', args.after)
  const qs = query.size > 0 ? `?${query.toString()}` : ''
  const result = await client.request<UnreadResponse>('GET', userPath(args.user, 'unread') + qs)
  emit(io, args, result, () => {
    const lines = [`${result.count} unread for ${result.user}`, ...result.messages.map(m => `  ${m}`)]
    if (result.next !== null) lines.push(`  ... more: --after ${JSON.stringify(result.next)}`)
    return lines.join('\n')
  })
  return 0
}

export async function get (args: ClientArgs & { user: string, message: string }, io: Io): Promise<number> {
  const client = clientFor(args)
  const state = await client.request<MessageResponse>('GET', userPath(args.user, 'messages', args.message))
  emit(io, args, state, () => [
    `${state.user} ${state.message}: ${state.status}`,
    `  origin      ${state.origin}`,
    `  ts          ${state.ts}`,
    `  origin time ${isoTime(state.originTime)}`,
    `  local time  ${isoTime(state.localTime)}`,
    `  seq         ${state.seq}`
  ].join('\n'))
  return 0
}

export async function log (args: ClientArgs & { user: string, limit?: number, after?: number }, io: Io): Promise<number> {
  const client = clientFor(args)
  const query = new URLSearchParams()
  if (args.limit !== undefined) query.set('limit', String(args.limit))
  if (args.after !== undefined) query.set('after', String(args.after))
  const qs = query.size > 0 ? `?${query.toString()}` : ''
  const result = await client.request<LogResponse>('GET', userPath(args.user, 'log') + qs)
  emit(io, args, result, () => {
    if (result.entries.length === 0) return `no log entries for ${args.user}`
    const rows = result.entries.map(e => [String(e.seq), e.message, e.status, e.origin, e.from ?? '-', isoTime(e.originTime), isoTime(e.localTime)])
    const text = table(['SEQ', 'MESSAGE', 'STATUS', 'ORIGIN', 'FROM', 'ORIGIN TIME', 'LOCAL TIME'], rows)
    return result.next === null ? text : `${text}\n... more: --after ${result.next}`
  })
  return 0
}

export async function status (args: ClientArgs, io: Io): Promise<number> {
  const client = clientFor(args)
  const s = await client.request<NodeStatusResponse>('GET', '/v1/status')
  emit(io, args, s, () => {
    const now = s.wallTime
    const head = [
      `node ${s.node} (cluster ${s.cluster})  seq ${s.seq}  oldest ${s.oldestSeq}  durability ${s.durability}`,
      `clock ${isoTime(s.wallTime)}  hlc ${isoTime(s.hlcPhysicalMs)}${s.clockCorrectionMs !== 0 ? `  correction ${signedMs(s.clockCorrectionMs)}` : ''}`
    ]
    if (s.peers.length === 0) return [...head, 'no peers'].join('\n')
    const rows = s.peers.map(p => [
      p.id, p.connected ? 'yes' : p.since === null ? 'no' : `no (since ${ago(p.since, now)})`, String(p.behind), String(p.cursor), ago(p.lastAckAt, now),
      signedMs(p.clockOffsetMs), p.skewed ? 'SKEWED' : 'no', p.url
    ])
    return [...head, '', table(['PEER', 'CONNECTED', 'BEHIND', 'CURSOR', 'LAST ACK', 'CLOCK OFFSET', 'SKEWED', 'URL'], rows)].join('\n')
  })
  return 0
}

export async function purge (args: ClientArgs, io: Io): Promise<number> {
  const client = clientFor(args)
  const result = await client.request<PurgeResponse>('POST', '/v1/purge')
  emit(io, args, result, () => `purged ${result.removed} log entries; oldest seq now ${result.oldestSeq}`)
  return 0
}
