import { DEFAULT_API_PAGE, MAX_API_PAGE, MAX_CHANGES_WAIT_MS } from '../limits.js'
import type { StatusStore } from '../store/api.js'
import type { LogEntry } from '../types.js'
import { HttpError } from './http-error.js'

/**
 * The node-wide change feed: every entry entered on this node (local marks and
 * peers' changes), in seq order, for any mail server bridge. A long-poll: with
 * `wait`, a request that finds nothing new is held until an entry is entered,
 * the wait ends, or the client or server goes away.
 */
export interface ChangesPage {
  entries: LogEntry[]
  /** The `after` of the next call: the last returned seq, or `after` when nothing was returned. */
  next: number
  lastSeq: number
  oldestSeq: number
  /** True when entries after `after` were purged (retention) before they were read. */
  gap: boolean
}

export interface ChangesQuery { after: number, limit: number, waitMs: number }

function integer (query: URLSearchParams, name: string, fallback: number, max: number, min = 0): number {
  const text = query.get(name)
  if (text === null || text === '') return fallback
  const value = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new HttpError(400, 'INVALID_QUERY', `${name} must be an integer ${min}..${max}`)
  }
  return value
}

export function parseChangesQuery (query: URLSearchParams): ChangesQuery {
  return {
    after: integer(query, 'after', 0, Number.MAX_SAFE_INTEGER),
    limit: integer(query, 'limit', DEFAULT_API_PAGE, MAX_API_PAGE, 1),
    waitMs: integer(query, 'wait', 0, MAX_CHANGES_WAIT_MS)
  }
}

/** Resolves once the store's lastSeq passes `after`, or `waitMs` passes, or `signal` aborts. */
export async function waitForEntries (store: StatusStore, after: number, waitMs: number, signal?: AbortSignal): Promise<void> {
  if (store.lastSeq > after || waitMs <= 0 || signal?.aborted === true) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      store.off('entered', onEntered)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const onEntered = (): void => { if (store.lastSeq > after) done() }
    const timer = setTimeout(done, waitMs)
    store.on('entered', onEntered)
    signal?.addEventListener('abort', done)
  })
}

export async function readChanges (store: StatusStore, query: ChangesQuery, signal?: AbortSignal): Promise<ChangesPage> {
  await waitForEntries(store, query.after, query.waitMs, signal)
  const entries = store.lastSeq > query.after ? await store.feed(query.after, query.limit) : []
  // Entries are read after lastSeq: an entry entered in between is simply in this page or the next.
  const lastSeq = Math.max(store.lastSeq, entries[entries.length - 1]?.seq ?? 0)
  const first = entries[0]?.seq ?? lastSeq + 1
  const gap = first > query.after + 1 && query.after < lastSeq
  const next = entries[entries.length - 1]?.seq ?? (gap ? lastSeq : query.after)
  return { entries, next, lastSeq, oldestSeq: store.oldestSeq, gap }
}
