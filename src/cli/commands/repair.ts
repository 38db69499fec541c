import type { RepairResponse } from '../../api/repair-route.js'
import type { Io } from '../io.js'
import { clientFor } from '../target.js'
import type { ClientArgs } from './client-commands.js'

/**
 * `marksync repair [--user U] [--peer P]`: anti-entropy rounds now (POST /v1/repair).
 * Exit 0 when every round ran, 1 when a peer could not be compared.
 */
export async function repair (args: ClientArgs & { user?: string, peer?: string }, io: Io): Promise<number> {
  const body: { user?: string, peer?: string } = {}
  if (args.user !== undefined) body.user = args.user
  if (args.peer !== undefined) body.peer = args.peer
  const result = await clientFor(args).request<RepairResponse>('POST', '/v1/repair', body)
  if (args.json === true) io.out(JSON.stringify(result, null, 2))
  else io.out(result.rounds.map(r => r.ok ? describe(r) : `${r.peer}: not compared: ${r.error}`).join('\n') || 'no peers')
  return result.rounds.every(r => r.ok) ? 0 : 1
}

function describe (r: RepairResponse['rounds'][number] & { ok: true }): string {
  const cost = `${r.bytes} bytes, ${r.ms} ms`
  if (r.same) return `${r.peer}: same winners (${cost})`
  return `${r.peer}: ${r.users} users differed in ${r.buckets} buckets; ${r.pulled} winners entered here, ${r.pushed} at ${r.peer} (${cost})`
}
