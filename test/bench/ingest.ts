/**
 * Ingest benchmark (`npm run bench:ingest`): how fast the store takes changes,
 * against raw LevelDB batch puts of the same count and size measured in the
 * same run. Prints a table and writes test/bench/results/ingest.json.
 *
 * Goals (issue 2): batched relaxed `mark` >= 0.5 x the raw batch-put rate;
 * `sync` with 64 concurrent writers >= 10 x the `sync` rate of 1 writer.
 *
 * Each case runs in a child process of its own (`--case NAME`), so its peak
 * RSS is its own and no case inherits another's heap or LevelDB compactions.
 * The batched cases run in interleaved rounds and report their best round: on
 * a shared machine that compares them under the same conditions. CPU time per
 * change (all threads of the case's process) is reported too: it depends much
 * less on what else the machine is doing than the wall-clock rates.
 * Options: --quick (smaller runs, for a smoke check); --changes N and --users N (the
 * batched cases at another size, e.g. 1,000,000 changes over 10,000 users: the store's
 * compactions then weigh as they do in a catch-up).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Level } from 'level'
import { Store } from '../../src/store/index.js'
import type { Change, LocalChange } from '../../src/types.js'
import { encodeFeed } from '../../src/store/codec.js'
import { FAMILY, feedKey } from '../../src/store/keys.js'
import { printTable } from './measure.js'
import { ChangeMix } from './mix.js'
import { Prng } from '../helpers/prng.js'
import { loadRecords, saveRecords } from './records-file.js'

const QUICK = process.argv.includes('--quick')
/** The number after `--name`, if given. */
function numberArg (name: string): number | undefined {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? undefined : Number(process.argv[at + 1])
}
/** Changes per batched call (the figure). */
const BATCH = 1_000
/** Changes in each batched run. */
const BATCHED_TOTAL = numberArg('changes') ?? (QUICK ? 10_000 : 50_000)
/** Interleaved rounds of the batched cases. */
const ROUNDS = QUICK ? 1 : 2
/** How long each single-change sync run lasts, in ms. */
const SYNC_RUN_MS = QUICK ? 1_000 : 4_000
/** Users the generated changes spread over. */
const USERS = numberArg('users') ?? 2_000
/** A case that takes longer than this is killed, so the whole bench stays bounded (ms): a minute per 100,000 changes, at least one. */
const CASE_TIMEOUT_MS = 60_000 * Math.max(1, Math.ceil(BATCHED_TOTAL / 100_000))

type CaseName = 'save' | 'raw' | 'records' | 'feedWinner' | 'mark' | 'apply' | 'sync1' | 'sync64'

interface CaseResult {
  changes: number
  ms: number
  /** CPU time of the case's process over the measured run (all threads, LevelDB's included), in ms. */
  cpuMs: number
  /** Peak RSS of the process that ran the case, in MiB. */
  peakRssMiB: number
  /** The `save` case: how many records it saved. */
  records?: number
}

/** The realistic mix of test/bench/mix.ts over USERS users. */
function workload (count: number, seed: number): LocalChange[] {
  return new ChangeMix(USERS, seed).take(count)
}

async function withDir<T> (fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'marksync-bench-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** CPU time used by the measured runs of this process, in ms (see `timed`). */
let cpuMs = 0

async function timed (run: () => Promise<void>): Promise<number> {
  const start = performance.now()
  const cpu = process.cpuUsage()
  await run()
  const used = process.cpuUsage(cpu)
  cpuMs += (used.user + used.system) / 1000
  return performance.now() - start
}

async function withRawDb<T> (fn: (db: Level<Buffer, Buffer>) => Promise<T>): Promise<T> {
  return await withDir(async dir => {
    const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    try {
      return await fn(db)
    } finally {
      await db.close()
    }
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

/** The baseline: one put per change, key and value of the size of one feed entry. */
async function rawBaseline (changes: LocalChange[]): Promise<number> {
  const ops = changes.map((c, i) => ({ type: 'put' as const, key: feedKey(i + 1), value: encodeFeed({ ...c, origin: 'node-1', ts: 1e15 + i, localTime: 1.7e12 }) }))
  return await withRawDb(async db => await timed(async () => {
    for (let i = 0; i < ops.length; i += BATCH) await db.batch(ops.slice(i, i + BATCH))
  }))
}

/** Builds a store of these changes (as `markBatched` does) and saves its records to `file`. */
async function saveStoreRecords (changes: LocalChange[], file: string): Promise<number> {
  return await withDir(async dir => {
    const store = new Store({ location: dir, nodeId: 'node-1', durability: 'relaxed' })
    await store.open()
    for (let i = 0; i < changes.length; i += BATCH) await store.mark(changes.slice(i, i + BATCH))
    await store.close()
    return await saveRecords(dir, file)
  })
}

/**
 * The records an acknowledged write would keep if per-user logs, unread tables and counts
 * were derived from the feed after it (the relaxed rule of issue 11): that layout's floor.
 */
const FEED_AND_WINNER: ReadonlySet<number> = new Set([FAMILY.feed, FAMILY.winner])

/**
 * Raw batch puts of the store's own records (of `families` only, if given), in a fixed
 * shuffled order, in as many batches as the store wrote, through chained batches as the
 * store writes them: the floor of what LevelDB costs the store for these records.
 */
async function rawStoreRecords (file: string, batches: number, families?: ReadonlySet<number>): Promise<number> {
  const ops = await loadRecords(file, families)
  const shuffled = new Prng(7).shuffle(ops)
  const size = Math.ceil(ops.length / batches)
  return await withRawDb(async db => await timed(async () => {
    for (let i = 0; i < shuffled.length; i += size) {
      const batch = db.batch()
      for (const record of shuffled.slice(i, i + size)) batch.put(record.key, record.value)
      await batch.write()
    }
  }))
}

async function markBatched (changes: LocalChange[]): Promise<number> {
  return await withStore('relaxed', async store => await timed(async () => {
    for (let i = 0; i < changes.length; i += BATCH) await store.mark(changes.slice(i, i + BATCH))
  }))
}

async function applyBatched (changes: LocalChange[]): Promise<number> {
  const base = Date.now() * 1024
  const remote: Change[] = changes.map((c, i) => ({ ...c, origin: 'node-2', ts: base + i }))
  return await withStore('relaxed', async store => await timed(async () => {
    for (let i = 0; i < remote.length; i += BATCH) await store.applyRemote(remote.slice(i, i + BATCH), { from: 'node-2' })
  }))
}

async function syncWriters (writers: number, changes: LocalChange[]): Promise<{ ms: number, done: number }> {
  return await withStore('sync', async store => {
    let next = 0
    const deadline = Date.now() + SYNC_RUN_MS
    const ms = await timed(async () => {
      await Promise.all(Array.from({ length: writers }, async () => {
        while (Date.now() < deadline && next < changes.length) await store.mark([changes[next++]])
      }))
    })
    return { ms, done: next }
  })
}

/** Runs one case in this process and prints its result as one JSON line. */
async function runCase (name: CaseName, recordsFile: string): Promise<void> {
  // The records cases read theirs from the file (written from a store of these changes).
  const changes = (): LocalChange[] => workload(BATCHED_TOTAL, 1)
  const batches = Math.ceil(BATCHED_TOTAL / BATCH)
  let result: { ms: number, done: number, records?: number }
  switch (name) {
    case 'raw': result = { ms: await rawBaseline(changes()), done: BATCHED_TOTAL }; break
    case 'records': result = { ms: await rawStoreRecords(recordsFile, batches), done: BATCHED_TOTAL }; break
    case 'feedWinner': result = { ms: await rawStoreRecords(recordsFile, batches, FEED_AND_WINNER), done: BATCHED_TOTAL }; break
    case 'mark': result = { ms: await markBatched(changes()), done: BATCHED_TOTAL }; break
    case 'apply': result = { ms: await applyBatched(changes()), done: BATCHED_TOTAL }; break
    case 'sync1': result = await syncWriters(1, changes()); break
    case 'sync64': result = await syncWriters(64, changes()); break
    case 'save': result = { ms: 0, done: BATCHED_TOTAL, records: await saveStoreRecords(changes(), recordsFile) }; break
  }
  const out: CaseResult = { changes: result.done, ms: result.ms, cpuMs, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), records: result.records }
  console.log(JSON.stringify(out))
}

async function spawnCase (name: CaseName, recordsFile: string): Promise<CaseResult> {
  const args = [fileURLToPath(import.meta.url), '--case', name, '--records', recordsFile, ...process.argv.slice(2)]
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: CASE_TIMEOUT_MS })
  return JSON.parse(stdout.trim().split('\n').pop() as string) as CaseResult
}

async function main (): Promise<void> {
  const rows: Array<Record<string, string | number>> = []
  const row = (name: string, r: CaseResult, baseline: number | null): number => {
    const rate = r.changes / (r.ms / 1000)
    rows.push({
      case: name,
      changes: r.changes,
      seconds: Number((r.ms / 1000).toFixed(2)),
      'changes/s': Math.round(rate),
      'x baseline': baseline === null ? '1.00' : (rate / baseline).toFixed(2),
      'CPU µs/change': Math.round(r.cpuMs * 1000 / r.changes),
      'peak RSS MiB': r.peakRssMiB
    })
    return rate
  }
  await withDir(async dir => {
    const recordsFile = join(dir, 'records.bin')
    // In a child too: a child's peak RSS starts from its parent's (Linux keeps it across exec).
    const records = (await spawnCase('save', recordsFile)).records as number
    const best = (runs: CaseResult[]): CaseResult => runs.reduce((a, b) => (b.ms < a.ms ? b : a))
    const rounds: Record<'raw' | 'records' | 'feedWinner' | 'mark' | 'apply', CaseResult[]> = { raw: [], records: [], feedWinner: [], mark: [], apply: [] }
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ['raw', 'records', 'feedWinner', 'mark', 'apply'] as const) rounds[name].push(await spawnCase(name, recordsFile))
    }
    const baseline = row('raw level batch put (1,000/batch)', best(rounds.raw), null)
    const recordsRate = row(`raw puts of the store's records (${(records / BATCHED_TOTAL).toFixed(2)}/change)`, best(rounds.records), baseline)
    row('raw puts of its feed and winner records only', best(rounds.feedWinner), baseline)
    const markRate = row('mark, 1,000/call, relaxed', best(rounds.mark), baseline)
    row('applyRemote, 1,000/call, relaxed', best(rounds.apply), baseline)
    const rate1 = row('mark, 1/call, sync, 1 writer', await spawnCase('sync1', recordsFile), baseline)
    const rate64 = row('mark, 1/call, sync, 64 writers', await spawnCase('sync64', recordsFile), baseline)
    printTable(rows)
    const goals = {
      markVsBaseline: { goal: 0.5, measured: Number((markRate / baseline).toFixed(2)) },
      markVsOwnRecords: { goal: null, measured: Number((markRate / recordsRate).toFixed(2)) },
      sync64VsSync1: { goal: 10, measured: Number((rate64 / rate1).toFixed(1)) }
    }
    console.log(`batched relaxed mark / raw puts: ${goals.markVsBaseline.measured} (goal >= 0.5); / raw puts of its own records: ${goals.markVsOwnRecords.measured}; sync 64 writers / 1 writer: ${goals.sync64VsSync1.measured} (goal >= 10)`)
    const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'bench', 'results', 'ingest.json')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick: QUICK, rounds: ROUNDS, changes: BATCHED_TOTAL, users: USERS, rows, goals }, null, 2) + '\n')
    console.log(`results written to ${out}`)
  })
}

const caseAt = process.argv.indexOf('--case')
if (caseAt === -1) {
  await main()
} else {
  await runCase(process.argv[caseAt + 1] as CaseName, process.argv[process.argv.indexOf('--records') + 1])
}
