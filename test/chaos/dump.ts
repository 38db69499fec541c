import type { MessageState } from '../../src/types.js'
import { apiGet } from './api-client.js'
import type { NodeDump } from './checker.js'

/** Page size of dump requests. */
export const DUMP_PAGE = 1_000
/** Most pages one dump may take (bounds a node that keeps answering `next`). */
export const DUMP_MAX_PAGES = 10_000
const DUMP_TIMEOUT_MS = 10_000

interface WinnersPage { winners: MessageState[], next: { user: string, message: string } | null }
interface UnreadPage { user: string, count: number, messages: string[], next: string | null }

/** Every winner of one node, through the paged `GET /v1/winners`. */
export async function fetchWinners (api: string, token?: string): Promise<MessageState[]> {
  const out: MessageState[] = []
  let after: { user: string, message: string } | null = null
  for (let page = 0; page < DUMP_MAX_PAGES; page++) {
    const query = new URLSearchParams({ limit: String(DUMP_PAGE) })
    if (after !== null) {
      query.set('afterUser', after.user)
      query.set('afterMessage', after.message)
    }
    const body: WinnersPage = await apiGet<WinnersPage>(api, `/v1/winners?${query.toString()}`, { timeoutMs: DUMP_TIMEOUT_MS, token })
    out.push(...body.winners)
    if (body.next === null) return out
    after = body.next
  }
  throw new Error(`${api}: winners dump longer than ${DUMP_MAX_PAGES} pages`)
}

/** One user's unread table (all pages) and the count the node reports separately. */
export async function fetchUnread (api: string, user: string, token?: string): Promise<{ messages: string[], count: number }> {
  const messages: string[] = []
  let after: string | null = null
  const base = `/v1/users/${encodeURIComponent(user)}/unread`
  for (let page = 0; page < DUMP_MAX_PAGES; page++) {
    const query = new URLSearchParams({ limit: String(DUMP_PAGE) })
    if (after !== null) query.set('after', after)
    const body: UnreadPage = await apiGet<UnreadPage>(api, `${base}?${query.toString()}`, { timeoutMs: DUMP_TIMEOUT_MS, token })
    messages.push(...body.messages)
    if (body.next === null) {
      const { count } = await apiGet<{ count: number }>(api, `${base}/count`, { timeoutMs: DUMP_TIMEOUT_MS, token })
      return { messages, count }
    }
    after = body.next
  }
  throw new Error(`${api}: unread table of ${user} longer than ${DUMP_MAX_PAGES} pages`)
}

/** A node's full dump: winners, and the unread tables of `users` (every user any node knows). */
export async function fetchDump (node: string, api: string, users: Iterable<string>, token?: string): Promise<NodeDump> {
  const winners = await fetchWinners(api, token)
  const unread = new Map<string, { messages: string[], count: number }>()
  for (const user of users) unread.set(user, await fetchUnread(api, user, token))
  return { node, winners, unread }
}

/** The part of a winner every replica must agree on (seq and localTime are per node). */
export function winnersDigest (winners: readonly MessageState[]): string {
  return JSON.stringify(winners.map(w => [w.user, w.message, w.status, w.ts, w.origin]))
}
