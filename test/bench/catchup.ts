/**
 * Catch-up benchmark (`npm run bench:catchup`, issue 11): node a makes 1,000,000
 * changes of the realistic mix (test/bench/mix.ts) over 10,000 users while node b is
 * away; then b starts on an empty directory and catches up, `sync` durability on both,
 * each node in a process of its own. Caught up = a's cursor for b covers a's whole
 * feed (b acknowledged everything, durably). Both RSS are sampled throughout.
 *
 * In the same run, Dovecot's `doveadm sync` moves `\Seen` changes between two sdbox
 * instances (users in turn, and in parallel) through test/bench/dsync.ts; without
 * Dovecot the bench says how to install it and reports marksync's figures alone.
 * Then a keeps making changes until its store holds 10,000,000 (goal 4), unless
 * `--no-big`. Prints the goal table; writes test/bench/results/catchup.json.
 * `--quick`: 100,000 changes, 1,000 users, no dsync, no big store (a smoke run);
 * `--changes N`: a catch-up of N changes instead.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort } from '../helpers/tmp.js'
import { printGoals, printTable, writeResults, type GoalLine } from './measure.js'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { prepareDsyncPair, type DsyncResult } from './dsync.js'
import { NodeProc } from './node-proc.js'
import { saveRecords } from './records-file.js'
import { sizing } from './sizing.js'

const QUICK = process.argv.includes('--quick')
/** `--changes N` overrides the catch-up's size (e.g. a bounded run between quick and full). */
const CHANGES_ARG = process.argv.indexOf('--changes')
const CHANGES = CHANGES_ARG > 0 ? Number(process.argv[CHANGES_ARG + 1]) : QUICK ? 100_000 : 1_000_000
const USERS = QUICK ? 1_000 : 10_000
const BIG_STORE = QUICK || process.argv.includes('--no-big') ? 0 : 10_000_000
const SEED = 11
/** Goal 4: RSS of either node, in MB (10^6 bytes). */
const RSS_GOAL_MB = 250
/** dsync's lab set-up (shared notes §5): users × messages, every message's `\Seen` changed. */
const DSYNC_USERS = 10
const DSYNC_MESSAGES = 10_000
/** Goal 5: CPU per change of batched `mark` and `applyRemote`, in µs. */
const CPU_GOAL_US = 10
/** Longest wait for a catch-up or a load, in ms. */
const PHASE_TIMEOUT_MS = 1_800_000
/** Longest the big-store phase makes changes, in ms; it reports how many the store then holds. */
const BIG_STORE_TIMEOUT_MS = 900_000

const mb = (mib: number): number => Math.round(mib * 1.048576)

/** dsync's rate on one pair of sdbox instances, users in turn and then in parallel, or why it was not measured. */
async function dsyncRates (root: string): Promise<{ serial?: DsyncResult, parallel?: DsyncResult, note?: string }> {
  if (QUICK) return { note: 'not measured with --quick' }
  if (DOVECOT_SKIP !== false) {
    console.log(`dsync not measured: ${DOVECOT_SKIP}`)
    return { note: DOVECOT_SKIP }
  }
  const pair = await prepareDsyncPair(join(root, 'dsync'), DSYNC_USERS, DSYNC_MESSAGES, 'sdbox')
  try {
    return { serial: await pair.measure(false), parallel: await pair.measure(true) }
  } finally {
    await pair.stop()
  }
}

interface Node { proc: NodeProc, port: number, dir: string }

interface RecordsFloor { records: number, changes_per_s: number, cpu_us_per_change: number }

/**
 * Goal 1's floor: the records b keeps after the catch-up, written again by raw LevelDB
 * puts and nothing else (no network, decoding or precedence), in batches of 1,000 changes'
 * worth, in a process of its own (ingest.ts's records case). A catch-up that must keep
 * these records cannot be faster.
 */
async function receiverRecordsFloor (dir: string): Promise<RecordsFloor> {
  const file = `${dir}-records.bin`
  const records = await saveRecords(dir, file)
  try {
    const script = fileURLToPath(new URL('./ingest.js', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--case', 'records', '--records', file, '--changes', String(CHANGES)], { timeout: PHASE_TIMEOUT_MS })
    const r = JSON.parse(stdout.trim().split('\n').pop() as string) as { ms: number, cpuMs: number }
    return { records, changes_per_s: Math.round(CHANGES / r.ms * 1000), cpu_us_per_change: +(r.cpuMs * 1000 / CHANGES).toFixed(1) }
  } finally {
    await rm(file, { force: true })
  }
}

/** CPU µs per change of ingest.ts's batched relaxed `mark` and `applyRemote` cases, each in its own process. */
async function ingestCpu (): Promise<{ mark: number, apply: number }> {
  const run = async (name: string): Promise<number> => {
    const script = fileURLToPath(new URL('./ingest.js', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--case', name, '--records', '-', ...(QUICK ? ['--quick'] : [])], { timeout: PHASE_TIMEOUT_MS })
    const r = JSON.parse(stdout.trim().split('\n').pop() as string) as { changes: number, cpuMs: number }
    return +(r.cpuMs * 1000 / r.changes).toFixed(1)
  }
  return { mark: await run('mark'), apply: await run('apply') }
}

/** The node processes' allocator and heap growth (the RSS they report depends on both). */
let nodeMemory: { allocator: string, heapGrowingPercent: number } | undefined

async function openNode (name: string, dir: string, port: number, peer: { id: string, port: number }): Promise<NodeProc> {
  const proc = new NodeProc(name)
  const opened = await proc.call('open', { node: name, dir, durability: 'sync', port, peers: [{ id: peer.id, url: `ws://127.0.0.1:${peer.port}` }] })
  nodeMemory = opened.memory
  await proc.call('watchRss', { on: true })
  return proc
}

async function waitDrained (a: NodeProc): Promise<void> {
  if (!(await a.call<boolean>('drained', { timeoutMs: PHASE_TIMEOUT_MS }))) throw new Error('b did not catch up')
}

/** a makes CHANGES with b away; b starts empty and catches up. */
async function catchUp (a: Node, b: Node): Promise<Record<string, number | boolean>> {
  const made = await a.proc.call('mix', { count: CHANGES, users: USERS, seed: SEED })
  const rssBefore = (await a.proc.call('stats')).rssMiB as number
  await a.proc.call('watchRss', { on: true }) // the peak from here on
  const cpuA0 = (await a.proc.call('cpu')).cpuMs as number
  const t0 = performance.now()
  b.proc = await openNode('b', b.dir, b.port, { id: 'a', port: a.port })
  await waitDrained(a.proc)
  const ms = performance.now() - t0
  const [cpuA, cpuB] = await Promise.all([a.proc.call('cpu'), b.proc.call('cpu')])
  const [rssA, rssB] = await Promise.all([a.proc.call('watchRss', { on: false }), b.proc.call('watchRss', { on: false })])
  const [countsA, countsB] = await Promise.all([a.proc.call<number[]>('unreadCounts', { users: USERS }), b.proc.call<number[]>('unreadCounts', { users: USERS })])
  const bStats = await b.proc.call('stats')
  return {
    changes: CHANGES,
    made_per_s: Math.round(CHANGES / made.ms * 1000),
    catch_up_s: +(ms / 1000).toFixed(2),
    changes_per_s: Math.round(CHANGES / ms * 1000),
    entered_at_b: bStats.entered,
    sender_cpu_us_per_change: +((cpuA.cpuMs - cpuA0) * 1000 / CHANGES).toFixed(1),
    receiver_cpu_us_per_change: +(cpuB.cpuMs * 1000 / CHANGES).toFixed(1),
    sender_rss_before_mib: rssBefore,
    sender_peak_rss_mib: rssA.peakMiB,
    receiver_peak_rss_mib: rssB.peakMiB,
    receiver_heap_mib: cpuB.heapMiB,
    receiver_heap_total_mib: cpuB.heapTotalMiB,
    sender_heap_total_mib: cpuA.heapTotalMiB,
    ...(cpuB.liveHeapMiB === undefined ? {} : { sender_live_heap_mib: cpuA.liveHeapMiB, receiver_live_heap_mib: cpuB.liveHeapMiB }),
    same_unread_counts: countsA.every((n, i) => n === countsB[i])
  }
}

/**
 * a keeps making changes until its store holds BIG_STORE (or BIG_STORE_TIMEOUT_MS passed,
 * so the bench stays bounded); its RSS peak meanwhile and after.
 */
async function bigStore (a: Node, already: number): Promise<Record<string, number>> {
  await a.proc.call('watchRss', { on: true })
  const made = await a.proc.call('mix', { count: BIG_STORE - already, users: USERS * 10, seed: SEED + 1, deadline: Date.now() + BIG_STORE_TIMEOUT_MS })
  const peak = await a.proc.call('watchRss', { on: false })
  const after = await a.proc.call('stats')
  return { changes_in_store: already + (made.count as number), made_per_s: Math.round(made.count / made.ms * 1000), peak_rss_mib: peak.peakMiB, rss_after_mib: after.rssMiB }
}

type DsyncRates = { serial?: DsyncResult, parallel?: DsyncResult }

function goals (c: Record<string, number | boolean>, dsync: DsyncRates, floor: RecordsFloor, cpu: { mark: number, apply: number }, big?: Record<string, number>): GoalLine[] {
  const rate = c.changes_per_s as number
  const lines: GoalLine[] = [{
    goal: '1. catch-up rate ≥ dsync sdbox, users in turn',
    measured: `${rate}/s`,
    target: dsync.serial === undefined ? 'dsync not measured' : `≥ ${Math.round(dsync.serial.perSecond)}/s`,
    met: dsync.serial === undefined ? null : rate >= dsync.serial.perSecond
  }]
  if (dsync.parallel !== undefined) {
    lines.push({ goal: '   (dsync sdbox, users in parallel)', measured: `${rate}/s`, target: `${Math.round(dsync.parallel.perSecond)}/s`, met: null })
  }
  const ofDsync = dsync.serial === undefined ? '' : ` (${(floor.changes_per_s / dsync.serial.perSecond).toFixed(2)} × dsync)`
  lines.push({ goal: '   floor: raw LevelDB puts of b\'s records alone', measured: `${floor.changes_per_s}/s${ofDsync}, ${floor.cpu_us_per_change} µs CPU`, target: 'info', met: null })
  const peak = Math.max(c.sender_peak_rss_mib as number, c.receiver_peak_rss_mib as number)
  lines.push({ goal: '4. RSS throughout a catch-up (sender, receiver)', measured: `${mb(c.sender_peak_rss_mib as number)} MB, ${mb(c.receiver_peak_rss_mib as number)} MB`, target: `< ${RSS_GOAL_MB} MB`, met: mb(peak) < RSS_GOAL_MB })
  if (big !== undefined) {
    const reached = big.changes_in_store >= BIG_STORE
    const held = reached ? '' : ` with only ${big.changes_in_store.toLocaleString('en')} in the store (time limit)`
    lines.push({ goal: '4. RSS with 10,000,000 changes in the store', measured: `${mb(big.rss_after_mib)} MB (peak ${mb(big.peak_rss_mib)})${held}`, target: `< ${RSS_GOAL_MB} MB`, met: reached ? mb(Math.max(big.rss_after_mib, big.peak_rss_mib)) < RSS_GOAL_MB : null })
  }
  lines.push({ goal: '   receiver CPU per change (catch-up)', measured: `${String(c.receiver_cpu_us_per_change)} µs`, target: 'info', met: null })
  for (const [name, us] of [['batched mark', cpu.mark], ['applyRemote', cpu.apply]] as const) {
    lines.push({ goal: `5. ${name}, CPU per change (1,000/call)`, measured: `${us} µs`, target: `≤ ${CPU_GOAL_US} µs`, met: us <= CPU_GOAL_US })
  }
  return lines
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'marksync-bench-catchup-'))
  const results: Record<string, unknown> = { quick: QUICK, startedAt: new Date().toISOString(), cpus: cpus().length, loadAverage: loadavg() }
  const a: Node = { proc: undefined as unknown as NodeProc, port: await freePort(), dir: join(root, 'a') }
  const b: Node = { proc: undefined as unknown as NodeProc, port: await freePort(), dir: join(root, 'b') }
  try {
    const dsync = await dsyncRates(root)
    results.dsync = dsync
    if (dsync.serial !== undefined) printTable([dsync.serial, dsync.parallel ?? {}].map((d, i) => ({ dsync_sdbox: i === 0 ? 'users in turn' : 'users in parallel', ...d })))
    a.proc = await openNode('a', a.dir, a.port, { id: 'b', port: b.port })
    const c = await catchUp(a, b)
    results.catchUp = c
    printTable([c])
    await b.proc.call('close')
    await b.proc.kill()
    const size = await sizing(b.dir, CHANGES)
    results.sizing = size
    printTable(size)
    const floor = await receiverRecordsFloor(b.dir)
    results.receiverRecordsFloor = floor
    printTable([floor])
    const cpu = await ingestCpu()
    results.ingestCpuUs = cpu
    const big = BIG_STORE > 0 ? await bigStore(a, CHANGES) : undefined
    if (big !== undefined) printTable([big])
    results.bigStore = big
    results.goals = goals(c, dsync, floor, cpu, big)
    printGoals(results.goals as GoalLine[])
    console.log('Goals 2 (lag) and 3 (bytes per change in meshes of 3, 5, 9): npm run bench:replication')
  } finally {
    for (const n of [a, b]) {
      await n.proc?.call('close').catch(() => {})
      await n.proc?.kill()
    }
    await rm(root, { recursive: true, force: true })
  }
  results.nodeMemory = nodeMemory
  if (nodeMemory !== undefined) console.log(`node processes: ${nodeMemory.allocator}, heapGrowingPercent ${nodeMemory.heapGrowingPercent}`)
  await writeResults('catchup', results)
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
