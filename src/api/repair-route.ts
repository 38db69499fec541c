/**
 * POST /v1/repair: anti-entropy rounds now (docs/operations.md "Anti-entropy"). Body
 * (optional): `{"peer": "b", "user": "alice"}`; answers one outcome per peer.
 */
import type { RepairOutcome } from '../replication/anti-entropy.js'
import { checkNodeId, checkUser } from '../validate.js'
import { HttpError } from './http-error.js'
import type { RequestContext } from './routes.js'
import type { Router } from './router.js'

export interface RepairResponse {
  rounds: RepairOutcome[]
}

function parseRepair (body: unknown): { peer?: string, user?: string } {
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'INVALID_ENTRY', 'the body must be {} or {"peer": "id", "user": "id"}')
  const { peer, user } = body as { peer?: unknown, user?: unknown }
  const out: { peer?: string, user?: string } = {}
  if (peer !== undefined) {
    try {
      out.peer = checkNodeId(peer, 'INVALID_PEER')
    } catch (err) {
      throw new HttpError(400, 'INVALID_PEER', (err as Error).message)
    }
  }
  if (user !== undefined) out.user = checkUser(user)
  return out
}

export function addRepairRoute (router: Router<RequestContext>): void {
  router.add('POST', '/v1/repair', async ({ backend, body }): Promise<RepairResponse> => {
    if (backend.repair === undefined) throw new HttpError(404, 'NOT_FOUND', 'this node runs no replication')
    const options = parseRepair(await body())
    const rounds = await backend.repair(options)
    if (options.peer !== undefined && rounds.length === 0) throw new HttpError(404, 'NOT_FOUND', `${options.peer} is not a peer of this node`)
    return { rounds }
  })
}
