/**
 * The `heapGrowingPercent` setting (docs/operations.md "Memory"): validated like every
 * setting, and, set in a running process as the daemon sets it, it bounds how much garbage
 * V8's old space holds before a full collection.
 */
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { parseMesh } from '../../src/config/mesh.js'
import { DEFAULT_HEAP_GROWING_PERCENT } from '../../src/limits.js'
import { twoNodeMesh } from '../helpers/mesh-json.js'

const moduleUrl = new URL('../../src/daemon/heap-growth.ts', import.meta.url).href

/**
 * A child process that keeps promoting short-lived objects into the old space (each batch
 * lives for eight rounds) and answers the largest old space it had, in MiB.
 */
function largestOldSpace (percent: number): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8'
    import { applyHeapGrowingPercent } from ${JSON.stringify(moduleUrl)}
    applyHeapGrowingPercent(${percent})
    const oldSpace = () => getHeapSpaceStatistics().find(s => s.space_name === 'old_space').space_size
    const ring = new Array(8)
    let largest = 0
    for (let round = 0; round < 400; round++) {
      const batch = []
      for (let i = 0; i < 20000; i++) batch.push({ i, s: 'g' + i })
      ring[round % 8] = batch
      if (round % 4 === 0) await new Promise(resolve => setImmediate(resolve))
      largest = Math.max(largest, oldSpace())
    }
    process.stdout.write(String(Math.round(largest / 1048576)))`
  const child = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(child.stderr)
  return Number(child.stdout)
}

t.test('the setting: 100 by default, a node\'s own over the mesh-wide value, 0..300', async t => {
  t.equal(parseMesh(twoNodeMesh({}), '/').mesh.nodes[0].settings.heapGrowingPercent, DEFAULT_HEAP_GROWING_PERCENT)
  t.equal(DEFAULT_HEAP_GROWING_PERCENT, 100)
  const parsed = parseMesh(twoNodeMesh({ settings: { heapGrowingPercent: 50 } }, { heapGrowingPercent: 0 }), '/')
  t.same(parsed.problems.lines(), [])
  t.same(parsed.mesh.nodes.map(n => n.settings.heapGrowingPercent), [0, 50])
  const bad = parseMesh(twoNodeMesh({ settings: { heapGrowingPercent: 301 } }, { heapGrowingPercent: '30%' }), '/')
  t.same(bad.problems.lines(), [
    'settings.heapGrowingPercent: must be an integer 0..300',
    'nodes[0].settings.heapGrowingPercent: must be an integer 0..300'
  ])
})

t.test('set in a running process, it bounds the old space; 0 gives V8 its own choice back', async t => {
  const bounded = largestOldSpace(30)
  const own = largestOldSpace(0)
  t.ok(bounded > 0 && own > 0, `old space at most ${bounded} MiB with 30, ${own} MiB with V8's own choice`)
  t.ok(bounded < own * 0.7, 'the setting holds the old space well below what V8 picks by itself')
})
