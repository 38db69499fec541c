import type { ChangesResponse, LogResponse, MessageResponse, PurgeResponse, UnreadResponse } from '../../contracts.js'
import type { Status } from '../../types.js'
import { userPath } from '../client.js'
import { isoTime, table } from '../format.js'
import type { Io } from '../io.js'
import { clientFor, type TargetArgs } from '../target.js'

/**
 * The client subcommands: each calls one API route on the chosen node and prints
 * a human summary, or the API's JSON with --json.
 */
export interface ClientArgs extends TargetArgs {
  json?: boolean
}

export function emit (io: Io, args: ClientArgs, json: unknown, human: () => string): void {
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

export async function purge (args: ClientArgs, io: Io): Promise<number> {
  const client = clientFor(args)
  const result = await client.request<PurgeResponse>('POST', '/v1/purge')
  emit(io, args, result, () => `purged ${result.removed} log entries; oldest seq now ${result.oldestSeq}`)
  return 0
}
