/**
 * The mesh file's `retired` list: ids of hosts that were members of the mesh and no
 * longer are. Their changes stay valid everywhere (a change whose origin was never a
 * member, in `nodes` nor in `retired`, is refused), so retiring a host never rewrites
 * history: it only stops the links to it.
 */
import { MAX_RETIRED_NODES } from '../limits.js'
import { checkNodeId } from '../validate.js'
import type { Problems } from './problems.js'

/** Validates `retired`: distinct node ids, none of them a current node. */
export function parseRetired (raw: unknown, nodeIds: ReadonlyMap<string, number>, problems: Problems): string[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw) || raw.length > MAX_RETIRED_NODES) {
    problems.add(['retired'], `must be an array of at most ${MAX_RETIRED_NODES} node ids`)
    return []
  }
  const retired: string[] = []
  raw.forEach((item: unknown, i: number) => {
    let id: string
    try {
      id = checkNodeId(item)
    } catch (err) {
      problems.add(['retired', i], (err as Error).message)
      return
    }
    const node = nodeIds.get(id)
    if (node !== undefined) problems.add(['retired', i], `"${id}" is also nodes[${node}]: a retired host is removed from "nodes"`)
    else if (retired.includes(id)) problems.add(['retired', i], `"${id}" is listed twice`)
    else retired.push(id)
  })
  return retired
}

/** Every id that is or was a member of the mesh: the origins a change may have. */
export function membersOf (mesh: { nodes: ReadonlyArray<{ id: string }>, retired: readonly string[] }): Set<string> {
  return new Set([...mesh.nodes.map(n => n.id), ...mesh.retired])
}
