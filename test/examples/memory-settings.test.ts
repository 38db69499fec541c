/**
 * docs/operations.md "Memory": the systemd unit preloads jemalloc (and a node still runs where
 * it is missing), sets two malloc arenas for glibc's malloc and leaves V8's heap limit at
 * Node's defaults; its commented-out opt-in line bounds the heap as the doc says (Node accepts
 * those NODE_OPTIONS). The benchmarks run their nodes with the unit's active environment
 * (test/bench/unit-env.ts).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT } from '../helpers/daemon.js'
import { unitEnvironment } from '../bench/unit-env.js'

const MIB = 1024 * 1024

/** Whether a Node process with `env` runs with jemalloc, and what it said on stderr. */
function allocatorOf (env: NodeJS.ProcessEnv): { status: number | null, jemalloc: boolean, stderr: string } {
  const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(require("node:fs").readFileSync("/proc/self/maps", "utf8").includes("libjemalloc")))'], { env, encoding: 'utf8' })
  return { status: run.status, jemalloc: run.stdout === 'true', stderr: run.stderr }
}

function heapLimit (env: NodeJS.ProcessEnv): { status: number | null, limit: number, stderr: string } {
  const run = spawnSync(process.execPath, ['-e', 'console.log(require("node:v8").getHeapStatistics().heap_size_limit)'], { env, encoding: 'utf8' })
  return { status: run.status, limit: Number(run.stdout.trim()), stderr: run.stderr }
}

t.test('the unit sets two arenas; its opt-in line bounds the heap as documented, and Node accepts it', async t => {
  const unit = await readFile(join(ROOT, 'examples', 'systemd', 'marksync.service'), 'utf8')
  const env = unitEnvironment(unit)
  t.equal(env.MALLOC_ARENA_MAX, '2')
  t.equal(env.NODE_OPTIONS, undefined, 'V8 keeps its defaults unless the admin opts in')
  const optIn = unitEnvironment(unit.split('\n').filter(l => l.startsWith('#Environment=')).map(l => l.slice(1)).join('\n'))
  t.match(optIn.NODE_OPTIONS, /--max-old-space-size=128\b/)
  const bounded = heapLimit({ ...process.env, ...env, ...optIn })
  t.equal(bounded.status, 0, bounded.stderr)
  t.ok(bounded.limit >= 128 * MIB && bounded.limit <= 192 * MIB, `heap limit ${Math.round(bounded.limit / MIB)} MiB: old space 128 MiB plus the young generation (up to 3 × 16 MiB semi-spaces)`)
  const { NODE_OPTIONS: _, ...without } = process.env
  t.ok(heapLimit(without).limit > bounded.limit, 'without the opt-in the limit is higher')
  const doc = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')
  t.match(doc, /#Environment="NODE_OPTIONS=--max-old-space-size=128"/, 'operations.md gives the same opt-in line')
})

const unitEnv = unitEnvironment(await readFile(join(ROOT, 'examples', 'systemd', 'marksync.service'), 'utf8'))
const preloaded = allocatorOf({ ...process.env, ...unitEnv })
const noJemalloc = /cannot be preloaded/.test(preloaded.stderr) && 'jemalloc is not installed here: apt-get install libjemalloc2'

t.test('the unit preloads jemalloc; where the library is missing the node still runs, with glibc\'s malloc', async t => {
  t.equal(unitEnv.LD_PRELOAD, 'libjemalloc.so.2')
  const missing = allocatorOf({ ...process.env, ...unitEnv, LD_PRELOAD: 'libmarksync-test-missing.so.2' })
  t.equal(missing.status, 0, 'a missing library does not stop Node')
  t.match(missing.stderr, /libmarksync-test-missing\.so\.2.*cannot be preloaded/, 'the loader says so on stderr (the journal)')
  t.equal(missing.jemalloc, false)
})

t.test('with the unit\'s environment, Node runs with jemalloc', { skip: noJemalloc }, async t => {
  t.equal(preloaded.status, 0, preloaded.stderr)
  t.equal(preloaded.jemalloc, true)
  t.equal(preloaded.stderr, '')
})

t.test('Environment= lines are read as systemd writes them', async t => {
  t.same(unitEnvironment('[Service]\nEnvironment="A=b c"\nEnvironment=B=1\n#Environment=C=2\nEnvironmentFile=/x\n'), { A: 'b c', B: '1' })
})
