import { checkMeshFile } from '../../config/load.js'
import { formatAddress } from '../../config/address.js'
import { formatDuration } from '../../config/duration.js'
import { meshWarnings } from '../../config/warnings.js'
import type { Mesh } from '../../config/mesh.js'
import type { Io } from '../io.js'

/** `marksync config check FILE [--node ID]`: every problem with its JSON path, or a summary and any warnings. */
export function configCheck (args: { file: string, node?: string, json?: boolean }, io: Io): number {
  const options = args.node === undefined ? {} : { nodeId: args.node }
  const { mesh, problems } = checkMeshFile(args.file, options)
  const warnings = problems.ok ? meshWarnings(mesh) : []
  if (args.json === true) {
    const nodes = mesh.nodes.map(n => n.id)
    const links = mesh.links.map(l => l.nodes)
    io.out(JSON.stringify({ ok: problems.ok, problems: problems.list, warnings, cluster: mesh.cluster, nodes, links, retired: mesh.retired }, null, 2))
    return problems.ok ? 0 : 1
  }
  if (!problems.ok) {
    io.err(`${args.file}: ${problems.list.length} problem${problems.list.length === 1 ? '' : 's'}`)
    for (const line of problems.lines()) io.err(`  ${line}`)
    return 1
  }
  io.out(summary(args.file, mesh))
  for (const w of warnings) io.err(`warning: ${w.path}: ${w.message}`)
  return 0
}

function summary (file: string, mesh: Mesh): string {
  const lines = [`${file}: OK, cluster "${mesh.cluster}", ${mesh.nodes.length} node${mesh.nodes.length === 1 ? '' : 's'}, ${mesh.links.length} link${mesh.links.length === 1 ? '' : 's'}`]
  for (const node of mesh.nodes) {
    const peers = mesh.links.flatMap(l => l.nodes[0] === node.id ? [l.nodes[1]] : l.nodes[1] === node.id ? [l.nodes[0]] : [])
    const s = node.settings
    lines.push(`  ${node.id}: peer ${node.peerUrl}, listen ${formatAddress(node.listen)}, api ${formatAddress(node.api)}, data ${node.dataDir}`)
    lines.push(`     peers ${peers.join(', ') || '(none)'}; durability ${s.durability}, retention ${formatDuration(s.retentionMs)}, purge every ${s.purgeIntervalMs === 0 ? 'never' : formatDuration(s.purgeIntervalMs)}, max skew ${formatDuration(s.maxClockSkewMs)}, heartbeat ${formatDuration(s.heartbeatMs)}`)
  }
  if (mesh.retired.length > 0) lines.push(`  retired (no links; their changes stay valid): ${mesh.retired.join(', ')}`)
  return lines.join('\n')
}
