/**
 * Where a node's memory goes as its store grows (issue 11, goal 4; docs/operations.md
 * "Memory"). One node process, with the systemd unit's environment and the daemon's
 * default heapGrowingPercent (node-proc.ts), takes the realistic mix (mix.ts, 10,000 users,
 * `sync`) in steps; after each step it reports its RSS split by what holds it (memory-map.ts).
 *
 *   node dist/test/bench/memory.js [--changes 10000000] [--step 1000000] [--max-open-files N]
 *
 * Prints the table, writes test/bench/results/memory.json.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { printTable, writeResults } from './measure.js'
import { NodeProc } from './node-proc.js'
import { freePort } from '../helpers/tmp.js'

function option (name: string, fallback: number): number {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}

const CHANGES = option('--changes', 10_000_000)
const STEP = option('--step', 1_000_000)
const MAX_OPEN_FILES = option('--max-open-files', 0)
const USERS = 10_000
const SEED = 11

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'marksync-bench-memory-'))
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), cpus: cpus().length, loadAverage: loadavg(), changes: CHANGES, maxOpenFiles: MAX_OPEN_FILES || 'default' }
  const node = new NodeProc('a')
  try {
    const store = MAX_OPEN_FILES > 0 ? { leveldb: { maxOpenFiles: MAX_OPEN_FILES } } : undefined
    const opened = await node.call('open', { node: 'a', dir: join(root, 'a'), durability: 'sync', port: await freePort(), peers: [], store })
    results.nodeMemory = opened.memory
    const rows: object[] = []
    await node.call('watchRss', { on: true })
    for (let done = 0; done < CHANGES;) {
      const made = await node.call('mix', { count: Math.min(STEP, CHANGES - done), users: USERS, seed: SEED, resume: true })
      done += made.count as number
      rows.push({ changes: done, per_s: Math.round(made.count / made.ms * 1000), ...await node.call('memoryMap') })
      console.log(JSON.stringify(rows[rows.length - 1]))
    }
    results.peakRssMiB = (await node.call('watchRss', { on: false })).peakMiB
    results.rows = rows
    printTable(rows)
    console.log(`node process: ${String(opened.memory.allocator)}, heapGrowingPercent ${String(opened.memory.heapGrowingPercent)}, leveldbMaxOpenFiles ${MAX_OPEN_FILES || 'default'}; peak RSS ${String(results.peakRssMiB)} MiB`)
  } finally {
    await node.call('close').catch(() => {})
    await node.kill()
    await rm(root, { recursive: true, force: true })
  }
  await writeResults('memory', results)
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
