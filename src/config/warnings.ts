import type { Mesh } from './mesh.js'
import type { Problem } from './problems.js'

/**
 * What `config check` warns about: a valid file whose mesh will not do what was
 * probably meant. Warnings do not make the file invalid (exit 0).
 */
export function meshWarnings (mesh: Mesh): Problem[] {
  const warnings: Problem[] = []
  if (mesh.nodes.length < 2) return warnings
  for (const node of mesh.nodes) {
    const linked = mesh.links.some(l => l.nodes[0] === node.id || l.nodes[1] === node.id)
    if (!linked) {
      warnings.push({ path: `nodes[${node.index}]`, message: `node "${node.id}" has no links: it will neither send nor receive any change (add it to "links")` })
    }
  }
  return warnings
}
