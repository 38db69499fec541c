/**
 * What a receiver refuses in a peer's batch or state chunk before anything of it is
 * applied (docs/protocol.md "Origins" and "Clock skew"): an origin that was never a
 * member of the mesh (UNKNOWN_ORIGIN), and a stamp further ahead of this node's clock
 * than MAX_TIMESTAMP_LEAD_MS (INVALID_FRAME: invalid, not held).
 */
import type { ErrorCode } from '../errors.js'
import { physicalMs } from '../hlc.js'
import { MAX_TIMESTAMP_LEAD_MS } from '../limits.js'
import type { Change } from '../types.js'

export interface Refusal { code: ErrorCode, message: string }

/**
 * @param members the nodes and retired hosts of the mesh; undefined accepts any origin
 * @param nowMs this node's wall clock
 */
export function refusalOf (entries: readonly Change[], members: ReadonlySet<string> | undefined, nowMs: number): Refusal | undefined {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]
    if (members !== undefined && !members.has(e.origin)) {
      return { code: 'UNKNOWN_ORIGIN', message: `entries[${i}]: origin ${e.origin} is not a node of the mesh, nor retired` }
    }
    const lead = physicalMs(e.ts) - nowMs
    if (lead > MAX_TIMESTAMP_LEAD_MS) {
      return { code: 'INVALID_FRAME', message: `entries[${i}]: ts is ${lead} ms ahead of this node's clock; beyond MAX_TIMESTAMP_LEAD_MS (${MAX_TIMESTAMP_LEAD_MS} ms) a stamp is invalid` }
    }
  }
  return undefined
}
