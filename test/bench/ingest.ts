/**
 * Ingest benchmark (`npm run bench:ingest`): how fast the store takes changes,
 * against raw LevelDB batch puts of the same count and size measured in the
 * same run. Prints a table and writes test/bench/results/ingest.json.
 *
 * Goals (issue 2): batched relaxed `mark` >= 0.5 x the raw batch-put rate;
 * `sync` with 64 concurrent writers >= 10 x the `sync` rate of 1 writer.
 * Options: --quick (smaller runs, for a smoke check).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { Store } from '../../src/store/index.js'
import type { Change, LocalChange, Status } from '../../src/types.js'
import { encodeFeed } from '../../src/store/codec.js'
import { feedKey } from '../../src/store/keys.js'
import { measure, printTable } from './measure.js'

const QUICK = process.argv.includes('--quick')
/** Changes per batched call (the figure). */
const BATCH = 1_000
/** Changes in each batched run. */
const BATCHED_TOTAL = QUICK ? 20_000 : 100_000
/**
 * Rounds of the batched cases, interleaved (baseline, mark, applyRemote, ...);
 * each case reports its best round. On a shared machine this compares the
 * cases under the same conditions instead of whatever load one run hit.
 */
const ROUNDS = QUICK ? 1 : 3
/** How long each single-change sync run lasts, in ms. */
const SYNC_RUN_MS = QUICK ? 1_000 : 4_000
/** Users the generated changes spread over. */
const USERS = 2_000

interface Row {
  case: string
  changes: number
  seconds: number
  'changes/s': number
  'x baseline': string
  'peak RSS MiB': number
}

/** A realistic mix: 60 % deliveries of new messages (unread), 30 % reads and 10 % deletions of earlier ones. */
function workload (count: number, seed: number): LocalChange[] {
  let state = seed
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
  const changes: LocalChange[] = []
  for (let i = 0; i < count; i++) {
    const r = random()
    const n = r < 0.6 || i === 0 ? i : Math.floor(random() * i)
    const status: Status = r < 0.6 ? 'unread' : r < 0.9 ? 'read' : 'deleted'
    changes.push({ user: `user${n % USERS}@example.org`, message: `<${n}.${seed}@mail.example.org>`, status })
  }
  return changes
}

async function withDir<T> (fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'marksync-bench-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function rawBaseline (changes: LocalChange[]): Promise<{ ms: number, peakRssMiB: number }> {
  return await withDir(async dir => {
    const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    // The same keys and values as the store's feed entries: the size of one entry.
    const ops = changes.map((c, i) => ({ type: 'put' as const, key: feedKey(i + 1), value: encodeFeed({ ...c, origin: 'node-1', ts: 1e15 + i, localTime: 1.7e12 }) }))
    const result = await measure(async () => {
      for (let i = 0; i < ops.length; i += BATCH) await db.batch(ops.slice(i, i + BATCH))
    })
    await db.close()
    return result
  })
}

async function withStore<T> (durability: 'sync' | 'relaxed', fn: (store: Store) => Promise<T>): Promise<T> {
  return await withDir(async dir => {
    const store = new Store({ location: dir, nodeId: 'node-1', durability })
    await store.open()
    try {
      return await fn(store)
    } finally {
      await store.close()
    }
  })
}

async function markBatched (changes: LocalChange[]): Promise<{ ms: number, peakRssMiB: number }> {
  return await withStore('relaxed', async store => await measure(async () => {
    for (let i = 0; i < changes.length; i += BATCH) await store.mark(changes.slice(i, i + BATCH))
  }))
}

/**
 * Every LevelDB record the store wrote for these changes (all families, meta
 * aside), in a fixed pseudo-random order: what a store without any logic of its
 * own would have to put.
 */
async function storeRecords (changes: LocalChange[]): Promise<Array<[Buffer, Buffer]>> {
  return await withDir(async dir => {
    const store = new Store({ location: dir, nodeId: 'node-1', durability: 'relaxed' })
    await store.open()
    for (let i = 0; i < changes.length; i += BATCH) await store.mark(changes.slice(i, i + BATCH))
    await store.close()
    const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    const records = await db.iterator({ gte: Buffer.of(0x02) }).all()
    await db.close()
    let state = 7
    for (let i = records.length - 1; i > 0; i--) {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
      const j = state % (i + 1)
      const tmp = records[i]
      records[i] = records[j]
      records[j] = tmp
    }
    return records
  })
}

/** Raw batch puts of the store's own records, in as many batches as the store wrote. */
async function rawStoreRecords (records: Array<[Buffer, Buffer]>, batches: number): Promise<{ ms: number, peakRssMiB: number }> {
  return await withDir(async dir => {
    const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    const ops = records.map(([key, value]) => ({ type: 'put' as const, key, value }))
    const size = Math.ceil(ops.length / batches)
    const result = await measure(async () => {
      for (let i = 0; i < ops.length; i += size) await db.batch(ops.slice(i, i + size))
    })
    await db.close()
    return result
  })
}

async function applyBatched (changes: LocalChange[]): Promise<{ ms: number, peakRssMiB: number }> {
  const base = Date.now() * 1024
  const remote: Change[] = changes.map((c, i) => ({ ...c, origin: 'node-2', ts: base + i }))
  return await withStore('relaxed', async store => await measure(async () => {
    for (let i = 0; i < remote.length; i += BATCH) await store.applyRemote(remote.slice(i, i + BATCH), { from: 'node-2' })
  }))
}

async function syncWriters (writers: number, changes: LocalChange[]): Promise<{ ms: number, peakRssMiB: number, done: number }> {
  return await withStore('sync', async store => {
    let next = 0
    const deadline = Date.now() + SYNC_RUN_MS
    const result = await measure(async () => {
      await Promise.all(Array.from({ length: writers }, async () => {
        while (Date.now() < deadline && next < changes.length) await store.mark([changes[next++]])
      }))
    })
    return { ...result, done: next }
  })
}

async function main (): Promise<void> {
  const changes = workload(BATCHED_TOTAL, 1)
  const rows: Row[] = []
  const row = (name: string, count: number, r: { ms: number, peakRssMiB: number }, baseline: number | null): number => {
    const rate = count / (r.ms / 1000)
    rows.push({
      case: name,
      changes: count,
      seconds: Number((r.ms / 1000).toFixed(2)),
      'changes/s': Math.round(rate),
      'x baseline': baseline === null ? '1.00' : (rate / baseline).toFixed(2),
      'peak RSS MiB': r.peakRssMiB
    })
    return rate
  }
  type Run = { ms: number, peakRssMiB: number }
  const best = (runs: Run[]): Run => ({ ms: Math.min(...runs.map(r => r.ms)), peakRssMiB: Math.max(...runs.map(r => r.peakRssMiB)) })
  const records = await storeRecords(changes)
  const batches = Math.ceil(changes.length / BATCH)
  const rounds: Record<'raw' | 'records' | 'mark' | 'apply', Run[]> = { raw: [], records: [], mark: [], apply: [] }
  for (let round = 0; round < ROUNDS; round++) {
    rounds.raw.push(await rawBaseline(changes))
    rounds.records.push(await rawStoreRecords(records, batches))
    rounds.mark.push(await markBatched(changes))
    rounds.apply.push(await applyBatched(changes))
  }
  const baseline = row('raw level batch put (1,000/batch)', changes.length, best(rounds.raw), null)
  const recordsRate = row(`raw puts of the store's records (${(records.length / changes.length).toFixed(2)}/change)`, changes.length, best(rounds.records), baseline)
  const markRate = row('mark, 1,000/call, relaxed', changes.length, best(rounds.mark), baseline)
  row('applyRemote, 1,000/call, relaxed', changes.length, best(rounds.apply), baseline)
  const single = await syncWriters(1, changes)
  const rate1 = row('mark, 1/call, sync, 1 writer', single.done, single, baseline)
  const many = await syncWriters(64, changes)
  const rate64 = row('mark, 1/call, sync, 64 writers', many.done, many, baseline)
  printTable(rows)
  const goals = {
    markVsBaseline: { goal: 0.5, measured: Number((markRate / baseline).toFixed(2)) },
    markVsOwnRecords: { goal: null, measured: Number((markRate / recordsRate).toFixed(2)) },
    sync64VsSync1: { goal: 10, measured: Number((rate64 / rate1).toFixed(1)) }
  }
  console.log(`batched relaxed mark / raw puts: ${goals.markVsBaseline.measured} (goal >= 0.5); / raw puts of its own records: ${goals.markVsOwnRecords.measured}; sync 64 writers / 1 writer: ${goals.sync64VsSync1.measured} (goal >= 10)`)
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'bench', 'results', 'ingest.json')
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick: QUICK, rounds: ROUNDS, rows, goals }, null, 2) + '\n')
  console.log(`results written to ${out}`)
}

await main()
