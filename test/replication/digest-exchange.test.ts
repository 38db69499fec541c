/**
 * The digest exchange between two real stores, its frames passed through the codec (the
 * process-level test in anti-entropy.test.ts runs it between real daemons).
 */
import t from 'tap'
import { AntiEntropy } from '../../src/replication/anti-entropy.js'
import type { RoundResult } from '../../src/replication/digest-exchange.js'
import { decodeFrame, encodeFrame, type Frame } from '../../src/protocol/index.js'
import type { DigestFrame } from '../../src/protocol/digest-frames.js'
import type { Change, Status } from '../../src/types.js'
import { openStore, prng } from '../store/util.js'

const BASE_TS = (Date.now() - 3_600_000) * 1024
const LIMITS = { entries: 2_000, bytes: 256 * 1024 }

function changes (seed: number, users: number, perUser: number, origin: string): Change[] {
  const random = prng(seed)
  const out: Change[] = []
  for (let u = 0; u < users; u++) {
    for (let m = 0; m < perUser; m++) {
      out.push({ user: `user-${u}`, message: `<m${m}@x>`, status: (['read', 'unread', 'deleted'] as Status[])[Math.floor(random() * 3)], origin, ts: BASE_TS + u * 10 + m })
    }
  }
  return out
}

type Store = Awaited<ReturnType<typeof openStore>>

async function fill (store: Store, all: Change[]): Promise<void> {
  for (let i = 0; i < all.length; i += 5_000) await store.applyRemote(all.slice(i, i + 5_000), { from: 'z' })
}

/** Two nodes' anti-entropy joined by a channel that encodes and decodes every frame. */
function pair (t: Parameters<typeof openStore>[0], a: Store, b: Store): { a: AntiEntropy, b: AntiEntropy, failures: string[] } {
  const failures: string[] = []
  const ae = { a: new AntiEntropy({ store: a, peers: ['b'], intervalMs: 0, limits: LIMITS }), b: new AntiEntropy({ store: b, peers: ['a'], intervalMs: 0, limits: LIMITS }) }
  const channel = (to: AntiEntropy, from: string): { send: (f: Frame) => number, fail: (code: string, m: string) => void } => ({
    send: (frame: Frame) => {
      const bytes = encodeFrame(frame)
      setImmediate(() => { to.onFrame(from, decodeFrame(bytes) as DigestFrame, bytes.length) })
      return bytes.length
    },
    fail: (code: string, message: string) => { failures.push(`${code}: ${message}`) }
  })
  ae.a.start()
  ae.b.start()
  ae.a.attach('b', channel(ae.b, 'a'), 2)
  ae.b.attach('a', channel(ae.a, 'b'), 2)
  t.teardown(() => { ae.a.stop(); ae.b.stop() })
  return { ...ae, failures }
}

/** The one peer's round of a repair, which must have run. */
async function roundOf (ae: AntiEntropy, options?: { user?: string }): Promise<RoundResult> {
  const [outcome] = await ae.repair(options)
  if (!outcome.ok) throw new Error(outcome.error)
  return outcome
}

async function roots (x: AntiEntropy, y: AntiEntropy): Promise<[string, string]> {
  await x.table.refresh()
  await y.table.refresh()
  return [x.table.root().toString('hex'), y.table.root().toString('hex')]
}

t.test('nothing differs: one root exchange', async t => {
  const all = changes(1, 3_000, 2, 'z')
  const [a, b] = [await openStore(t), await openStore(t)]
  await fill(a, all)
  await fill(b, all)
  const { a: ae, failures } = pair(t, a, b)
  const result = await roundOf(ae)
  t.match(result, { peer: 'b', same: true, users: 0, pulled: 0, pushed: 0 })
  t.ok(result.bytes < 200, `${result.bytes} bytes`)
  t.same(failures, [])
})

t.test('some users differ each way: both sides get the greater winners', async t => {
  const all = changes(2, 3_000, 2, 'z')
  const [a, b] = [await openStore(t), await openStore(t)]
  await fill(a, all)
  await fill(b, all)
  // a: 10 newer winners (5 users) and 5 users b lacks; b: 7 newer winners of 4 other users.
  await a.applyRemote(all.slice(0, 10).map(c => ({ ...c, ts: c.ts + 1_000, origin: 'x' })), { from: 'x' })
  await a.applyRemote(changes(3, 5, 3, 'x').map(c => ({ ...c, user: `only-a-${c.user}` })), { from: 'x' })
  await b.applyRemote(all.slice(1000, 1007).map(c => ({ ...c, ts: c.ts + 1_000, status: 'read', origin: 'y' })), { from: 'y' })
  const { a: ae, b: be, failures } = pair(t, a, b)
  const before = await roots(ae, be)
  t.not(before[0], before[1])
  const result = await roundOf(ae)
  t.match(result, { same: false, users: 5 + 5 + 4, pulled: 7, pushed: 10 + 15 })
  t.ok(result.buckets >= 1 && result.buckets <= 17)
  const after = await roots(ae, be)
  t.equal(after[0], after[1], 'same winners on both')
  t.equal(ae.status().divergentUsers, 14)
  t.equal(ae.status().entriesRepaired, 7)
  t.equal(be.status().entriesRepaired, 25, 'counted where they entered')
  const again = await roundOf(ae)
  t.ok(again.same, 'a second round finds nothing')
  t.same(failures, [])
})

t.test('an empty store gets everything back, page by page, in a round of either side', async t => {
  const all = changes(4, 4_500, 2, 'z')
  const [a, b, c] = [await openStore(t), await openStore(t), await openStore(t)]
  await fill(a, all)
  const one = pair(t, a, b)
  const pushed = await roundOf(one.a)
  t.match(pushed, { users: 4_500, pushed: 9_000, pulled: 0 })
  const two = pair(t, c, a)
  const pulled = await roundOf(two.a)
  t.match(pulled, { users: 4_500, pulled: 9_000, pushed: 0 })
  const [ra, rc] = await roots(one.a, two.a)
  t.equal(ra, rc)
  t.same([...one.failures, ...two.failures], [])
})

t.test('repair of one user skips the digests', async t => {
  const [a, b] = [await openStore(t), await openStore(t)]
  await a.applyRemote(changes(5, 2, 3, 'x'), { from: 'x' })
  const { a: ae } = pair(t, a, b)
  const result = await roundOf(ae, { user: 'user-1' })
  t.match(result, { users: 1, pushed: 3, pulled: 0 })
  t.equal((await b.get('user-1', '<m2@x>'))?.origin, 'x')
  t.equal(await b.get('user-0', '<m2@x>'), undefined, 'other users untouched')
})

t.test('an answer to no request, and too many requests, close the session', async t => {
  const [a, b] = [await openStore(t), await openStore(t)]
  const { a: ae, failures } = pair(t, a, b)
  ae.onFrame('b', { type: 'ae-pushed', id: 99, entered: 0 }, 10)
  t.match(failures, [/^UNEXPECTED_FRAME/])
  for (let i = 0; i < 6; i++) ae.onFrame('b', { type: 'ae-root', id: i, root: Buffer.alloc(8) }, 10)
  t.match(failures[1], /^WINDOW_EXCEEDED/)
})
