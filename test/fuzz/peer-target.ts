/**
 * The socket half of the frame fuzzer: a real target node (Store + Replicator on
 * 127.0.0.1) replicating with an honest node, while fuzz clients open sessions and
 * send hostile frames, before the handshake or after authenticating as the configured
 * peer `x` (a compromised cluster member: it knows the secret). Each case ends with a
 * valid ping as a probe: the node must answer it or close the session within
 * CASE_DEADLINE_MS, or the case is a hang.
 *
 * At the end: both honest nodes still replicate (a fresh change each way arrives), the
 * honest users' winners are identical on both and were all written by honest callers,
 * and every other winner on the target came from an entry of a frame the decoder
 * accepted on an authenticated session. Anything else is an unexpected write.
 */
import { WebSocket } from 'ws'
import { join } from 'node:path'
import { MAX_FRAME_BYTES } from '../../src/limits.js'
import type { Replicator } from '../../src/replication/index.js'
import type { Store } from '../../src/store/index.js'
import { computeProof, decodeFrame, encodeFrame, newNonce, type Frame, type FrameType } from '../../src/protocol/index.js'
import type { Change, LocalChange } from '../../src/types.js'
import { freePort } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { Prng } from '../helpers/prng.js'
import { openNode } from '../helpers/node.js'
import { FRAME_TYPES, frameCase, type FrameContext } from './frame-cases.js'

/** A case not answered or closed within this is a hang, in ms. */
export const CASE_DEADLINE_MS = 5_000
const CLUSTER = 'fuzz'
const SECRET = Buffer.from('fuzz-cluster-secret-0123456789')
const HONEST_PREFIX = 'honest-'
/** Frame types sent after authenticating: the established ones, and handshake ones out of order. */
const AFTER_AUTH: readonly FrameType[] = ['batch', 'batch', 'batch', 'state', 'state', 'ack', 'state-ack', 'ping', 'pong', 'hold', 'resume', 'links', 'hello', 'welcome', 'auth', 'error']

export interface PeerFuzzResult {
  cases: number
  /** Cases that authenticated as `x` before sending their frames. */
  authenticated: number
  /** How cases ended: 'pong' (answered), the close code, or 'refused' (the upgrade). */
  outcomes: Record<string, number>
  hangs: number
  unexpectedWrites: number
  /** Both honest nodes exchanged a fresh change after the run, and agree. */
  replicatesAfter: boolean
  honestWrites: number
  fuzzEntriesAccepted: number
  ms: number
  errors: string[]
}

const keyOf = (c: Change): string => JSON.stringify([c.user, c.message, c.status, c.origin, c.ts])

interface Node { store: Store, repl: Replicator, port: number }

async function startNode (dir: string, id: string, port: number, peers: Array<{ id: string, url: string }>): Promise<Node> {
  const { store, repl } = await openNode({
    id,
    dir: join(dir, id),
    replication: {
      cluster: CLUSTER,
      secret: SECRET,
      listen: { host: '127.0.0.1', port },
      peers,
      heartbeatMs: 200,
      pushDelayMs: 1,
      handshakeTimeoutMs: 1_000,
      // Thousands of bad sessions from one address on purpose: refusals are tested in
      // test/security, here every case must reach the frame handler.
      budget: { maxFaults: Number.MAX_SAFE_INTEGER, maxInbound: 1_000, maxPendingHandshakes: 1_000 }
    }
  })
  return { store, repl: repl as Replicator, port: (repl as Replicator).port }
}

export async function runPeerFuzz (seed: number, options: { maxCases: number, deadline: number, dir: string, concurrency?: number }): Promise<PeerFuzzResult> {
  const started = performance.now()
  const out: PeerFuzzResult = { cases: 0, authenticated: 0, outcomes: {}, hangs: 0, unexpectedWrites: 0, replicatesAfter: false, honestWrites: 0, fuzzEntriesAccepted: 0, ms: 0, errors: [] }
  const hPort = await freePort()
  const t = await startNode(options.dir, 't', 0, [{ id: 'h', url: `ws://127.0.0.1:${hPort}` }, { id: 'x', url: 'ws://127.0.0.1:1' }])
  const h = await startNode(options.dir, 'h', hPort, [{ id: 't', url: `ws://127.0.0.1:${t.port}` }])
  const allowed = new Set<string>()
  const honest = new Set<string>()
  const root = new Prng(seed)
  let stop = false
  try {
    await waitFor(() => t.repl.status().find(p => p.id === 'h')?.connected, { timeoutMs: 10_000, what: 'the honest link' })
    // Honest callers on both nodes, all through the run.
    const honestLoop = (async () => {
      const r = root.fork()
      while (!stop) {
        const node = r.chance(0.5) ? t : h
        const changes: LocalChange[] = Array.from({ length: r.int(1, 5) }, () => ({ user: `${HONEST_PREFIX}${r.int(0, 20)}`, message: `m${r.int(0, 30)}`, status: r.pick(['read', 'unread', 'deleted'] as const) }))
        for (const e of await node.store.mark(changes)) honest.add(keyOf(e))
        out.honestWrites += changes.length
        await new Promise(resolve => setTimeout(resolve, r.int(5, 30)))
      }
    })()
    const workers = Array.from({ length: options.concurrency ?? 4 }, async () => {
      const r = root.fork()
      while (!stop && out.cases < options.maxCases && Date.now() < options.deadline) {
        out.cases++
        const outcome = await runCase(r, t.port, allowed, out)
        out.outcomes[outcome] = (out.outcomes[outcome] ?? 0) + 1
        if (outcome === 'hang') out.hangs++
      }
    })
    await Promise.all(workers)
    stop = true
    await honestLoop
    out.replicatesAfter = await checkReplicates(t, h, honest)
    out.fuzzEntriesAccepted = await countWrites(t, h, honest, allowed, out)
  } catch (err) {
    out.errors.push(String((err as Error)?.stack ?? err))
  } finally {
    stop = true
    await t.repl.stop()
    await h.repl.stop()
    await t.store.close()
    await h.store.close()
  }
  out.ms = performance.now() - started
  return out
}

/** One session: optional handshake as `x`, 1..4 hostile frames, then the probe. */
async function runCase (r: Prng, port: number, allowed: Set<string>, out: PeerFuzzResult): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024, perMessageDeflate: false })
  const frames: Frame[] = []
  let closed: number | undefined
  let notify = (): void => {}
  ws.on('error', () => {})
  ws.on('message', (data: Buffer) => {
    try { frames.push(decodeFrame(data)) } catch {}
    notify()
  })
  ws.on('close', code => { closed = code; notify() })
  const until = async (probe: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms
    while (!probe() && closed === undefined) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        notify = () => { clearTimeout(timer); resolve() }
      })
    }
    return probe() || closed !== undefined
  }
  try {
    const opened = await new Promise<boolean>(resolve => {
      ws.once('open', () => resolve(true))
      ws.once('error', () => resolve(false))
      ws.once('unexpected-response', () => resolve(false))
    })
    if (!opened) return 'refused'
    const ctx: FrameContext = { cluster: CLUSTER, node: 'x', target: 't', now: Date.now() }
    const auth = r.chance(0.5)
    if (auth) {
      const nonce = newNonce()
      ws.send(encodeFrame({ type: 'hello', versions: [1], cluster: CLUSTER, node: 'x', nonce, time: Date.now() }))
      if (!await until(() => frames.some(f => f.type === 'welcome'), CASE_DEADLINE_MS)) return 'hang'
      const welcome = frames.find(f => f.type === 'welcome')
      if (welcome?.type !== 'welcome') return `closed-${closed ?? 0}`
      const proof = computeProof(SECRET, { role: 'dialer', version: welcome.version, cluster: CLUSTER, dialer: 'x', acceptor: 't', dialerNonce: nonce, acceptorNonce: welcome.nonce })
      ws.send(encodeFrame({ type: 'auth', proof, time: Date.now(), echo: welcome.time }))
      out.authenticated++
    }
    for (let k = r.int(1, 4); k > 0 && closed === undefined; k--) {
      if (r.chance(0.002)) {
        ws.send(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x90)) // one byte over the frame limit
        continue
      }
      const c = frameCase(r, ctx, auth ? AFTER_AUTH : FRAME_TYPES)
      if (auth) {
        // What the decoder accepts from an authenticated peer may legitimately be written.
        try {
          const f = decodeFrame(c.bytes)
          if (f.type === 'batch' || f.type === 'state') for (const e of f.entries) allowed.add(keyOf(e))
        } catch {}
      }
      ws.send(c.bytes)
    }
    if (closed !== undefined) return `closed-${closed}`
    const t0 = Date.now() + 7 // not the clock reading of any fuzz ping
    ws.send(encodeFrame({ type: 'ping', t0 }))
    const answered = await until(() => frames.some(f => f.type === 'pong' && f.t0 === t0), CASE_DEADLINE_MS)
    if (!answered) return 'hang'
    return closed !== undefined ? `closed-${closed}` : 'pong'
  } finally {
    ws.terminate()
  }
}

async function dump (store: Store): Promise<Map<string, Change>> {
  const out = new Map<string, Change>()
  for await (const w of store.winners()) out.set(JSON.stringify([w.user, w.message]), { user: w.user, message: w.message, status: w.status, origin: w.origin, ts: w.ts })
  return out
}

/** A fresh change each way must arrive, and then the honest users' winners agree. */
async function checkReplicates (t: Node, h: Node, honest: Set<string>): Promise<boolean> {
  const [a] = await t.store.mark([{ user: `${HONEST_PREFIX}final`, message: 'from-t', status: 'read' }])
  const [b] = await h.store.mark([{ user: `${HONEST_PREFIX}final`, message: 'from-h', status: 'unread' }])
  if (a === undefined || b === undefined) return false
  honest.add(keyOf(a))
  honest.add(keyOf(b))
  try {
    await waitFor(async () => (await h.store.get(a.user, a.message))?.ts === a.ts && (await t.store.get(b.user, b.message))?.ts === b.ts, { timeoutMs: 20_000, what: 'a fresh change each way' })
    // Then everything honest in flight settles.
    await waitFor(async () => sameHonest(await dump(t.store), await dump(h.store)), { timeoutMs: 20_000, what: 'honest winners to agree' })
    return true
  } catch {
    return false
  }
}

function sameHonest (a: Map<string, Change>, b: Map<string, Change>): boolean {
  const pick = (m: Map<string, Change>): string[] => [...m.values()].filter(c => c.user.startsWith(HONEST_PREFIX)).map(keyOf).sort()
  const x = pick(a)
  const y = pick(b)
  return x.length === y.length && x.every((k, i) => k === y[i])
}

/** Unexpected writes: any winner on either node that neither an honest caller nor an accepted frame explains. */
async function countWrites (t: Node, h: Node, honest: Set<string>, allowed: Set<string>, out: PeerFuzzResult): Promise<number> {
  let fuzz = 0
  for (const node of [t, h]) {
    for (const c of (await dump(node.store)).values()) {
      const k = keyOf(c)
      if (c.user.startsWith(HONEST_PREFIX) ? honest.has(k) : allowed.has(k)) {
        if (!c.user.startsWith(HONEST_PREFIX) && node === t) fuzz++
        continue
      }
      out.unexpectedWrites++
      if (out.errors.length < 20) out.errors.push(`unexpected winner on ${node.store.nodeId}: ${k}`)
    }
  }
  return fuzz
}
