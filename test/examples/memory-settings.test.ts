/**
 * docs/operations.md "Memory": the systemd unit's environment bounds V8's heap (Node accepts
 * its NODE_OPTIONS, and the heap limit is what the doc says) and sets two malloc arenas. The
 * benchmarks run their nodes with the same environment (test/bench/unit-env.ts).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT } from '../helpers/daemon.js'
import { unitEnvironment } from '../bench/unit-env.js'

const MIB = 1024 * 1024

function heapLimit (env: NodeJS.ProcessEnv): { status: number | null, limit: number, stderr: string } {
  const run = spawnSync(process.execPath, ['-e', 'console.log(require("node:v8").getHeapStatistics().heap_size_limit)'], { env, encoding: 'utf8' })
  return { status: run.status, limit: Number(run.stdout.trim()), stderr: run.stderr }
}

t.test('the unit bounds the heap as documented, and Node accepts its options', async t => {
  const env = unitEnvironment()
  t.equal(env.MALLOC_ARENA_MAX, '2')
  t.match(env.NODE_OPTIONS, /--max-old-space-size=128\b/)
  t.match(env.NODE_OPTIONS, /--max-semi-space-size=4\b/)
  const bounded = heapLimit({ ...process.env, ...env })
  t.equal(bounded.status, 0, bounded.stderr)
  t.ok(bounded.limit >= 128 * MIB && bounded.limit <= 160 * MIB, `heap limit ${Math.round(bounded.limit / MIB)} MiB: old space 128 MiB plus the young generation`)
  const { NODE_OPTIONS: _, ...without } = process.env
  t.ok(heapLimit(without).limit > bounded.limit, 'without the unit the limit is higher')
  const doc = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')
  t.match(doc, /--max-old-space-size=128 --max-semi-space-size=4/, 'operations.md gives the same flags')
})

t.test('Environment= lines are read as systemd writes them', async t => {
  t.same(unitEnvironment('[Service]\nEnvironment="A=b c"\nEnvironment=B=1\n#Environment=C=2\nEnvironmentFile=/x\n'), { A: 'b c', B: '1' })
})
