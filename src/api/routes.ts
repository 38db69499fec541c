import { DEFAULT_API_PAGE, MAX_API_CHANGES, MAX_API_PAGE } from '../limits.js'
import type {
  ChangesResponse, HealthResponse, LogResponse, MessageResponse, PeerStatus, PurgeResponse, PurgeResult,
  UnreadCountResponse, UnreadResponse, WinnersResponse
} from '../contracts.js'
import type { StatusStore } from '../store/api.js'
import type { LocalChange, MessageState } from '../types.js'
import { checkLocalChange, checkMessage, checkUser } from '../validate.js'
import { parseChangesQuery, readChanges } from './change-feed.js'
import { checkEach, HttpError } from './http-error.js'
import { Router } from './router.js'
import { nodeStatus, storeHealth, type StatusOverview } from './status.js'
import { addAdminRoutes } from './admin-routes.js'
import { STATUS_PAGE } from './status-page.js'
import type { AntiEntropyStatus, RepairOutcome } from '../replication/anti-entropy.js'
import { addRepairRoute } from './repair-route.js'

/** What the API serves from: the node's store plus what only the daemon knows. */
export interface ApiBackend {
  store: StatusStore
  cluster: string
  retentionMs: number
  /** Per-peer replication status (empty without a replicator). */
  peers: () => PeerStatus[]
  /** A purge now (the daemon logs and counts it). */
  purge: () => Promise<PurgeResult>
  /** Prometheus text; absent means 404 on /metrics. */
  metrics?: () => Promise<{ contentType: string, body: string }>
  /** The mail server bridge's status, shown in /v1/status when the node runs one. */
  bridge?: () => unknown
  /** The mesh, rates and origins for /v1/status; without it those fields are null or 0. */
  overview?: () => StatusOverview
  /** Anti-entropy counters for /v1/status (absent without a replicator). */
  antiEntropy?: () => AntiEntropyStatus
  /** Anti-entropy rounds now, for POST /v1/repair (absent: 404). */
  repair?: (options: { peer?: string, user?: string }) => Promise<RepairOutcome[]>
  /** Resolves once local changes may be stamped (the clock check at start); absent: at once. */
  clockChecked?: () => Promise<void>
}

export interface RequestContext {
  backend: ApiBackend
  query: URLSearchParams
  /** The JSON body, read within the body limit. */
  body: () => Promise<unknown>
  /** Aborted when the client goes away or the server stops (ends long-polls). */
  signal?: AbortSignal
}

/** A raw reply (not JSON, or JSON with a status of its own), for /metrics, /v1/health and the status page. */
export class RawReply {
  constructor (readonly contentType: string, readonly body: string, readonly headers: Record<string, string> = {}, readonly status = 200) {}
}

function limitOf (query: URLSearchParams): number {
  const text = query.get('limit')
  if (text === null) return DEFAULT_API_PAGE
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_API_PAGE) {
    throw new HttpError(400, 'INVALID_QUERY', `limit must be an integer 1..${MAX_API_PAGE}`)
  }
  return Number(text)
}

function seqAfter (query: URLSearchParams): number {
  const text = query.get('after')
  if (text === null || text === '') return 0
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new HttpError(400, 'INVALID_QUERY', 'after must be a sequence number')
  return Number(text)
}

/** The whole request is validated before anything is written, so a bad change changes nothing. */
function parseChanges (body: unknown): LocalChange[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'INVALID_ENTRY', 'the body must be {"changes": [...]} or one {"user", "message", "status"}')
  }
  const record = body as Record<string, unknown>
  if (!('changes' in record)) return [checkLocalChange(record)]
  const list = record.changes
  if (!Array.isArray(list) || list.length === 0) throw new HttpError(400, 'INVALID_ENTRY', 'changes must be a non-empty array')
  if (list.length > MAX_API_CHANGES) throw new HttpError(400, 'TOO_MANY_CHANGES', `${list.length} changes; at most ${MAX_API_CHANGES} per request`)
  return checkEach(list, checkLocalChange)
}

// eslint-disable-next-line max-lines-per-function -- a declarative table: one router.add() per route
export function buildRouter (): Router<RequestContext> {
  const router = new Router<RequestContext>()
  router.add('GET', '/v1/health', async ({ backend }) => {
    // Never healthy while the store cannot write: a probe takes the node out of rotation.
    const store = storeHealth(backend.store)
    const body: HealthResponse = { ok: store.state === 'ok', node: backend.store.nodeId, store }
    return new RawReply('application/json', JSON.stringify(body), {}, body.ok ? 200 : 503)
  })

  router.add('POST', '/v1/changes', async ({ backend, body }): Promise<ChangesResponse> => {
    const changes = parseChanges(await body())
    await backend.clockChecked?.()
    // mark() resolves only once the entries are durable (per the durability setting).
    return { entries: await backend.store.mark(changes) }
  })

  router.add('GET', '/v1/changes', async ({ backend, query, signal }) => await readChanges(backend.store, parseChangesQuery(query), signal))

  router.add('GET', '/v1/users/:user/unread', async ({ backend, query }, params): Promise<UnreadResponse> => {
    const user = checkUser(params.user)
    const limit = limitOf(query)
    const after = query.get('after')
    const options: { after?: string, limit: number } = { limit: limit + 1 }
    if (after !== null && after !== '') options.after = checkMessage(after)
    const page = await backend.store.unread(user, options)
    const more = page.length > limit
    const messages = more ? page.slice(0, limit) : page
    const count = await backend.store.unreadCount(user)
    return { user, count, messages, next: more ? messages[messages.length - 1] : null }
  })

  router.add('GET', '/v1/users/:user/unread/count', async ({ backend }, params): Promise<UnreadCountResponse> => {
    const user = checkUser(params.user)
    return { user, count: await backend.store.unreadCount(user) }
  })

  router.add('GET', '/v1/users/:user/messages/:message', async ({ backend }, params): Promise<MessageResponse> => {
    const user = checkUser(params.user)
    const message = checkMessage(params.message)
    const state = await backend.store.get(user, message)
    if (state === undefined) throw new HttpError(404, 'NOT_FOUND', `no status known for message ${JSON.stringify(message)} of user ${JSON.stringify(user)}`)
    return state
  })

  router.add('GET', '/v1/users/:user/log', async ({ backend, query }, params): Promise<LogResponse> => {
    const user = checkUser(params.user)
    const limit = limitOf(query)
    const page = await backend.store.log(user, { after: seqAfter(query), limit: limit + 1 })
    const more = page.length > limit
    const entries = more ? page.slice(0, limit) : page
    return { entries, next: more ? (entries[entries.length - 1]?.seq ?? null) : null }
  })

  router.add('GET', '/v1/winners', async ({ backend, query }): Promise<WinnersResponse> => {
    const limit = limitOf(query)
    const afterUser = query.get('afterUser')
    const afterMessage = query.get('afterMessage')
    if ((afterUser === null) !== (afterMessage === null)) throw new HttpError(400, 'INVALID_QUERY', 'afterUser and afterMessage go together')
    const options = afterUser !== null && afterMessage !== null ? { after: { user: checkUser(afterUser), message: checkMessage(afterMessage) } } : {}
    const winners: MessageState[] = []
    let more = false
    for await (const state of backend.store.winners(options)) {
      if (winners.length === limit) {
        more = true
        break
      }
      winners.push(state)
    }
    const last = winners[winners.length - 1]
    return { winners, next: more && last !== undefined ? { user: last.user, message: last.message } : null }
  })

  router.add('GET', '/v1/status', async ({ backend }) => {
    const { store, cluster, retentionMs, overview } = backend
    const status = await nodeStatus({ store, cluster, retentionMs, peers: backend.peers(), ...(overview === undefined ? {} : { overview: overview() }) })
    return { ...status, antiEntropy: backend.antiEntropy?.() ?? null, ...(backend.bridge !== undefined ? { bridge: backend.bridge() } : {}) }
  })

  addAdminRoutes(router)

  router.add('GET', '/', async () => new RawReply('text/html', STATUS_PAGE.html, STATUS_PAGE.headers))

  router.add('POST', '/v1/purge', async ({ backend }): Promise<PurgeResponse> => {
    const { removed, oldestSeq } = await backend.purge()
    return { removed, oldestSeq }
  })

  addRepairRoute(router)

  router.add('GET', '/metrics', async ({ backend }) => {
    if (backend.metrics === undefined) throw new HttpError(404, 'NOT_FOUND', 'metrics are not enabled')
    const { contentType, body } = await backend.metrics()
    return new RawReply(contentType, body)
  })
  return router
}
