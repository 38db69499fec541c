/**
 * bench:antientropy — what one anti-entropy round costs (docs/protocol.md §7a), between two
 * real LevelDB stores whose AntiEntropy components talk over a real WebSocket on 127.0.0.1:
 * bytes on the wire and wall time of a round with nothing to repair, and with 1 % of the
 * users differing. Baseline, measured in the same run: a state transfer of every winner
 * (its bytes, and the time to read every winner once, which it costs at least).
 * Prints a table and writes test/bench/results/anti-entropy.json.
 *
 *   npm run bench:antientropy [-- --users 100000 --messages 5]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocket, WebSocketServer } from 'ws'
import { Store } from '../../src/store/index.js'
import { AntiEntropy } from '../../src/replication/anti-entropy.js'
import type { RoundResult } from '../../src/replication/digest-exchange.js'
import { decodeFrame, encodeFrame, entryWireBytes } from '../../src/protocol/index.js'
import type { DigestFrame } from '../../src/protocol/digest-frames.js'
import type { Change, Status } from '../../src/types.js'

function arg (name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}

const USERS = arg('users', 100_000)
const MESSAGES = arg('messages', 5)
const REPEATS = 3
const LIMITS = { entries: 2_000, bytes: 256 * 1024 }
const STATUSES: Status[] = ['read', 'unread', 'deleted']
const BASE_TS = (Date.now() - 86_400_000) * 1024

function userChanges (u: number, origin: string, bump = 0): Change[] {
  return Array.from({ length: MESSAGES }, (_, m) => ({
    user: `user-${u}@example.org`, message: `<${u}.${m}@mx.example.org>`, status: STATUSES[(u + m) % 3], origin, ts: BASE_TS + u * 8 + m + bump
  }))
}

async function fill (store: Store): Promise<void> {
  let batch: Change[] = []
  for (let u = 0; u < USERS; u++) {
    batch.push(...userChanges(u, 'mx0'))
    if (batch.length >= 4_000) {
      await store.applyRemote(batch, { from: 'mx0' })
      batch = []
    }
  }
  if (batch.length > 0) await store.applyRemote(batch, { from: 'mx0' })
}

/** a and b joined by one WebSocket on 127.0.0.1, every frame through the codec. */
async function connect (a: AntiEntropy, b: AntiEntropy): Promise<() => Promise<void>> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 })
  await new Promise(resolve => server.once('listening', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<WebSocket>(resolve => server.once('connection', resolve))
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, maxPayload: 1 << 20 })
  await new Promise(resolve => client.once('open', resolve))
  const serverSide = await accepted
  const join = (ae: AntiEntropy, ws: WebSocket, peer: string): void => {
    ws.binaryType = 'nodebuffer'
    ws.on('message', (data: Buffer) => { ae.onFrame(peer, decodeFrame(data) as DigestFrame, data.length) })
    ae.attach(peer, {
      send: frame => { const bytes = encodeFrame(frame); ws.send(bytes); return bytes.length },
      fail: (code, message) => { throw new Error(`${code}: ${message}`) }
    }, 2)
  }
  join(a, client, 'b')
  join(b, serverSide, 'a')
  return async () => {
    client.close()
    await new Promise(resolve => server.close(resolve))
  }
}

async function round (ae: AntiEntropy): Promise<RoundResult> {
  const [outcome] = await ae.repair()
  if (!outcome.ok) throw new Error(outcome.error)
  return outcome
}

/** Median of REPEATS rounds by time (the bytes are the same each time). */
async function measured (ae: AntiEntropy): Promise<RoundResult> {
  const rounds: RoundResult[] = []
  for (let i = 0; i < REPEATS; i++) rounds.push(await round(ae))
  return rounds.sort((x, y) => x.ms - y.ms)[Math.floor(REPEATS / 2)]
}

/** The baseline: what a state transfer of every winner sends, and one read of them all. */
async function baseline (store: Store): Promise<{ bytes: number, ms: number, winners: number }> {
  const started = performance.now()
  let bytes = 0
  let winners = 0
  for await (const w of store.winners()) {
    bytes += entryWireBytes(w)
    winners++
  }
  return { bytes, ms: Math.round(performance.now() - started), winners }
}

/** 1 % of the users get a newer winner on b (every 100th user, one message). */
async function diverge (store: Store): Promise<number> {
  const changes: Change[] = []
  for (let u = 0; u < USERS; u += 100) changes.push({ ...userChanges(u, 'mx1', 1_000)[0], status: 'read' })
  for (let i = 0; i < changes.length; i += 4_000) await store.applyRemote(changes.slice(i, i + 4_000), { from: 'mx1' })
  return changes.length
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'marksync-bench-ae-'))
  const stores = ['a', 'b'].map(id => new Store({ location: join(dir, id), nodeId: id, durability: 'relaxed' }))
  try {
    for (const s of stores) await s.open()
    let started = performance.now()
    await Promise.all(stores.map(fill))
    console.log(`filled two stores with ${USERS} users × ${MESSAGES} winners in ${Math.round(performance.now() - started)} ms`)
    const [a, b] = stores.map((store, i) => new AntiEntropy({ store, peers: [i === 0 ? 'b' : 'a'], intervalMs: 0, limits: LIMITS }))
    a.start()
    b.start()
    started = performance.now()
    await Promise.all([a.table.refresh(), b.table.refresh()])
    const buildMs = Math.round(performance.now() - started)
    const close = await connect(a, b)
    const same = await measured(a)
    const differing = await diverge(stores[1])
    const repair = await round(a)
    const after = await round(a)
    if (!after.same) throw new Error('the stores still differ after the repair')
    const base = await baseline(stores[0])
    await close()
    a.stop()
    b.stop()
    await report({ buildMs, same, repair, differing, base })
  } finally {
    for (const s of stores) await s.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function report (r: { buildMs: number, same: RoundResult, repair: RoundResult, differing: number, base: { bytes: number, ms: number, winners: number } }): Promise<void> {
  const pct = (x: number, y: number): string => `${(100 * x / y).toFixed(3)} %`
  const rows = [
    ['case', 'bytes', 'ms', 'users differing', 'winners moved', 'bytes vs state transfer', 'ms vs one scan'],
    ['nothing differs', r.same.bytes, r.same.ms, r.same.users, 0, pct(r.same.bytes, r.base.bytes), pct(r.same.ms, r.base.ms)],
    ['1 % of users differ', r.repair.bytes, r.repair.ms, r.repair.users, r.repair.pulled + r.repair.pushed, pct(r.repair.bytes, r.base.bytes), pct(r.repair.ms, r.base.ms)],
    ['baseline: state transfer of every winner', r.base.bytes, r.base.ms, '', r.base.winners, '100 %', '100 %']
  ]
  console.log(`\nanti-entropy round, ${USERS} users × ${MESSAGES} winners per node (${r.differing} users changed on b); digest tables built in ${r.buildMs} ms (once, at the first round)\n`)
  for (const row of rows) console.log(row.map((c, i) => String(c).padEnd(i === 0 ? 42 : 25)).join(''))
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'bench', 'results', 'anti-entropy.json')
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, users: USERS, messages: MESSAGES, ...r }, null, 2) + '\n')
  console.log(`\nresults written to ${out}`)
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
