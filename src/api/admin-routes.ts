/**
 * The admin routes of the API: bulk marks, a message's history (explain) and import (docs/operations.md "HTTP API").
 * Export needs no route of its own: it pages through GET /v1/winners.
 */
import { MAX_API_CHANGES } from '../limits.js'
import { markAll, parseTime, type MarkAllOptions } from '../admin/mark-all.js'
import type { Change } from '../types.js'
import { checkChange, checkMessage, checkStatus, checkUser } from '../validate.js'
import { messageHistory } from '../admin/history.js'
import { checkEach, HttpError } from './http-error.js'
import type { RequestContext } from './routes.js'
import type { Router } from './router.js'

function isObject (body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
}

function parseMarkAll (body: unknown): MarkAllOptions {
  if (!isObject(body)) throw new HttpError(400, 'INVALID_ENTRY', 'the body must be {"status": "read", "before"?: time}')
  const options: MarkAllOptions = { status: checkStatus(body.status) }
  if (body.before !== undefined) options.before = parseTime(body.before)
  return options
}

/** The whole request is validated before anything is applied. */
function parseImport (body: unknown): Change[] {
  const list = isObject(body) ? body.changes : undefined
  if (!Array.isArray(list) || list.length === 0) {
    throw new HttpError(400, 'INVALID_ENTRY', 'the body must be {"changes": [{user, message, status, origin, ts}, ...]}')
  }
  if (list.length > MAX_API_CHANGES) throw new HttpError(400, 'TOO_MANY_CHANGES', `${list.length} changes; at most ${MAX_API_CHANGES} per request`)
  return checkEach(list, checkChange)
}

export function addAdminRoutes (router: Router<RequestContext>): void {
  router.add('POST', '/v1/users/:user/mark-all', async ({ backend, body }, params) => {
    const user = checkUser(params.user)
    const request = parseMarkAll(await body())
    await backend.clockChecked?.()
    return await markAll(backend.store, user, request)
  })

  router.add('GET', '/v1/users/:user/messages/:message/history', async ({ backend }, params) => {
    const offsetAt = backend.overview?.().offsetAt
    return await messageHistory(backend.store, checkUser(params.user), checkMessage(params.message), offsetAt)
  })

  router.add('POST', '/v1/import', async ({ backend, body }) => {
    // Applied as changes from a peer: entered only where newer than the winner here.
    const result = await backend.store.applyRemote(parseImport(await body()))
    return { entered: result.entered.length, stale: result.stale, duplicate: result.duplicate }
  })
}
