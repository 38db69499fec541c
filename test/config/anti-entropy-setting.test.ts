import t from 'tap'
import { parseMesh } from '../../src/config/mesh.js'
import { twoNodeMesh } from '../helpers/mesh-json.js'
import { DEFAULT_ANTI_ENTROPY_INTERVAL_MS } from '../../src/limits.js'

function mesh (settings: unknown, own?: unknown): Record<string, unknown> {
  return twoNodeMesh({ settings }, own)
}

t.test('antiEntropyInterval: a duration, 0 turns the periodic rounds off, default 10 minutes', async t => {
  t.equal(DEFAULT_ANTI_ENTROPY_INTERVAL_MS, 600_000)
  t.equal(parseMesh(mesh(undefined), '/').mesh.nodes[0].settings.antiEntropyIntervalMs, DEFAULT_ANTI_ENTROPY_INTERVAL_MS)
  const set = parseMesh(mesh({ antiEntropyInterval: '2m' }, { antiEntropyInterval: 0 }), '/')
  t.same(set.problems.lines(), [])
  t.same(set.mesh.nodes.map(n => n.settings.antiEntropyIntervalMs), [0, 120_000])
  t.match(parseMesh(mesh({ antiEntropyInterval: 'daily' }), '/').problems.lines(), [/^settings\.antiEntropyInterval: bad duration "daily"/])
})
