/**
 * Bulk marks: every unread message of a user (optionally only those whose unread
 * change is older than a time) gets a new status, through the store's ordinary
 * `mark`, so each change is stamped, logged and replicated like any other.
 */
import { MARK_ALL_CHUNK } from '../limits.js'
import { MarksyncError } from '../errors.js'
import type { StatusStore } from '../store/api.js'
import type { Status } from '../types.js'
import { checkUser } from '../validate.js'

export interface MarkAllOptions {
  /** `read` or `deleted`: the new status of every unread message. */
  status: Status
  /** Only messages whose unread change was made (origin clock) before this time, in ms. */
  before?: number
}

export interface MarkAllResult {
  user: string
  status: Status
  /** Messages whose status changed. */
  marked: number
  /** Unread messages left as they were (not older than `before`). */
  skipped: number
}

/** Parses a time given as ms since the epoch or an ISO 8601 date; throws INVALID_TIME. */
export function parseTime (value: unknown): number {
  const text = typeof value === 'string' ? value : undefined
  const ms = typeof value === 'number' ? value : text === undefined ? NaN : /^\d+$/.test(text) ? Number(text) : Date.parse(text)
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new MarksyncError('INVALID_TIME', `${JSON.stringify(value)} is not a time: give ms since the epoch or an ISO 8601 date such as 2026-11-01T00:00:00Z`)
  }
  return ms
}

async function olderThan (store: StatusStore, user: string, messages: string[], before: number): Promise<string[]> {
  const states = await store.getMany(user, messages)
  return messages.filter((_, i) => (states[i]?.originTime ?? Infinity) < before)
}

/**
 * Answers once every chunk is durable. The unread table is read in key order and `after`
 * only moves forward, so the loop ends even while new mail arrives; a message that turns
 * unread behind the cursor during the call keeps its status. A failure part-way leaves the
 * chunks already marked (each is durable): running it again finishes the job.
 */
export async function markAll (store: StatusStore, user: string, options: MarkAllOptions): Promise<MarkAllResult> {
  checkUser(user)
  if (options.status !== 'read' && options.status !== 'deleted') {
    throw new MarksyncError('INVALID_STATUS', 'mark-all sets read or deleted (it acts on unread messages)')
  }
  const result: MarkAllResult = { user, status: options.status, marked: 0, skipped: 0 }
  let after: string | undefined
  for (;;) {
    const page = await store.unread(user, { ...(after === undefined ? {} : { after }), limit: MARK_ALL_CHUNK })
    if (page.length === 0) return result
    const chosen = options.before === undefined ? page : await olderThan(store, user, page, options.before)
    result.skipped += page.length - chosen.length
    if (chosen.length > 0) result.marked += (await store.mark(chosen.map(message => ({ user, message, status: options.status })))).length
    after = page[page.length - 1]
    if (page.length < MARK_ALL_CHUNK) return result
  }
}
