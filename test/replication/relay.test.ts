/**
 * Relay suppression (docs/protocol.md "Relays"): in a full mesh a node leaves out relays
 * of changes whose origin its peer is linked to, and when that link goes down the relays
 * deliver everything, including what was left out just before.
 */
import t from 'tap'
import type { Store } from '../../src/store/index.js'
import type { Replicator } from '../../src/replication/index.js'
import { RelayGate, type LeftOut } from '../../src/replication/relay-gate.js'
import { FeedSender } from '../../src/replication/feed-sender.js'
import { openStore } from '../store/util.js'
import { RecordingChannel } from './recording-channel.js'
import { LinkProxy } from '../chaos/proxy.js'
import { startNode } from '../helpers/node.js'
import type { Teardown } from '../helpers/teardown.js'
import { freePort } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { EMPTY_BATCH_DELAY_MS } from '../../src/limits.js'
import { winners } from './helpers.js'

const LINKS: Array<[string, string]> = [['a', 'b'], ['a', 'c'], ['b', 'c']]

interface Node { id: string, store: Store, repl: Replicator }

/** A node of the full mesh, in process (test/helpers/node.ts). */
async function startMeshNode (t: Teardown, id: string, port: number, peers: Array<{ id: string, url: string }>): Promise<Node> {
  const node = await startNode(t, { id, replication: { listen: { host: '127.0.0.1', port }, peers, links: LINKS, heartbeatMs: 100, pushDelayMs: 1 } })
  return { id, store: node.store, repl: node.repl as Replicator }
}

const fromPeer = (node: Node, peer: string): number => {
  const s = node.repl.status().find(p => p.id === peer)
  return (s?.entriesEntered ?? 0) + (s?.entriesDuplicate ?? 0) + (s?.entriesStale ?? 0)
}

const up = (node: Node, peer: string): boolean => node.repl.status().find(p => p.id === peer)?.connected === true

async function mark (a: Node, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await a.store.mark(Array.from({ length: 50 }, (_, j) => ({ user: `u${(i + j) % 7}`, message: `${prefix}${i + j}`, status: 'unread' as const })))
  }
}

t.test('full mesh: relays left out while links are up, everything delivered when one goes down', async t => {
  const [pa, pb, pc, nowhere] = [await freePort(), await freePort(), await freePort(), await freePort()]
  // c reaches a only through a proxy that the test cuts; a's own dial to c goes nowhere.
  const proxy = new LinkProxy({ target: { host: '127.0.0.1', port: pa } })
  await proxy.start()
  t.teardown(async () => { await proxy.stop() })
  const url = (port: number): string => `ws://127.0.0.1:${port}`
  const a = await startMeshNode(t, 'a', pa, [{ id: 'b', url: url(pb) }, { id: 'c', url: url(nowhere) }])
  const b = await startMeshNode(t, 'b', pb, [{ id: 'a', url: url(pa) }, { id: 'c', url: url(pc) }])
  const c = await startMeshNode(t, 'c', pc, [{ id: 'a', url: url(proxy.port) }, { id: 'b', url: url(pb) }])
  await waitFor(() => up(a, 'b') && up(a, 'c') && up(b, 'c'), { what: 'mesh up' })
  await mark(a, 'warm', 50)
  await waitFor(async () => (await winners(c.store)).length === 50 && (await winners(b.store)).length === 50, { what: 'warm-up' })

  const relayedBefore = fromPeer(c, 'b')
  await mark(a, 'up', 200)
  await waitFor(async () => (await winners(c.store)).length === 250, { what: 'c has a’s changes' })
  await waitFor(() => a.repl.status().every(p => p.behind === 0) && b.repl.status().every(p => p.behind === 0), { what: 'acks' })
  t.equal(fromPeer(c, 'b') - relayedBefore, 0, 'b relayed none of a’s changes to c: c had them from a')

  // The a–c link breaks while a is making changes: b must deliver them, left out or not.
  const cutting = mark(a, 'cut', 400)
  proxy.cut()
  await cutting
  await waitFor(() => !up(c, 'a'), { what: 'a–c down' })
  await waitFor(async () => (await winners(c.store)).length === 650, { timeoutMs: 30_000, what: 'c gets everything through b' })
  t.same(await winners(c.store), await winners(a.store), 'c equals a with the a–c link down')
  t.ok(fromPeer(c, 'b') > relayedBefore, 'b relayed to c')

  proxy.heal()
  await waitFor(() => up(c, 'a'), { timeoutMs: 30_000, what: 'a–c up again' })
  await mark(a, 'healed', 50)
  await waitFor(async () => (await winners(c.store)).length === 700, { what: 'after healing' })
  t.same(await winners(c.store), await winners(a.store))
  t.same(await winners(b.store), await winners(a.store))
})

t.test('RelayGate: leaves out only for a linked origin reported up; a report of down asks for a resend', async t => {
  const gate = new RelayGate(new Set(['o']))
  const batch = new Map<string, LeftOut>()
  t.notOk(gate.leaveOut('o', 1, 100, batch), 'no report yet: sent')
  gate.report(new Map([['o', { up: true, have: 150 }]]))
  t.ok(gate.leaveOut('o', 2, 100, batch), 'confirmed already (ts ≤ have)')
  t.equal(batch.size, 0, 'nothing to remember')
  t.ok(gate.leaveOut('o', 3, 200, batch))
  t.ok(gate.leaveOut('o', 4, 210, batch))
  t.notOk(gate.leaveOut('x', 5, 220, batch), 'not linked to the peer: relayed')
  gate.sent(batch)
  t.equal(gate.lowestPending(), 3)
  t.equal(gate.report(new Map([['o', { up: true, have: 205 }]])), undefined, 'partly confirmed, link up')
  t.equal(gate.lowestPending(), 3, 'the batch is confirmed only as a whole')
  t.equal(gate.report(new Map([['o', { up: true, have: 210 }]])), undefined)
  t.equal(gate.lowestPending(), undefined, 'all confirmed')
  const next = new Map<string, LeftOut>()
  t.ok(gate.leaveOut('o', 9, 300, next))
  gate.sent(next)
  t.equal(gate.report(new Map([['o', { up: false, have: 210 }]])), 8, 'down: resend after seq 8')
  t.equal(gate.lowestPending(), undefined)
  t.notOk(gate.leaveOut('o', 10, 310, new Map()), 'down: relayed')
  gate.newSession()
  t.notOk(gate.leaveOut('o', 11, 320, new Map()), 'new session, no report yet: relayed')
})

/** Changes made by o, entered here (node r) from q: relays, seqs first + 1 on. */
async function relays (store: Store, first: number, count: number): Promise<void> {
  const ts = Date.now() * 1024
  await store.applyRemote(Array.from({ length: count }, (_, i) => ({ user: 'u', message: `m${first + i}`, status: 'read' as const, origin: 'o', ts: ts + first + i })), { from: 'q' })
}

/** A sender towards p, which shares a link with o and reports it up: relays of o may be left out. */
async function senderToLinkedPeer (t: Teardown, store: Store): Promise<{ sender: FeedSender, ch: RecordingChannel }> {
  const sender = new FeedSender({ store, peer: 'p', batchEntries: 10, batchBytes: 64 * 1024, window: 4, peerLinkedTo: new Set(['o']), emit: () => {} })
  await sender.load()
  const ch = new RecordingChannel()
  sender.attach(ch)
  t.teardown(async () => { sender.detach(); await sender.idle() })
  sender.onLinks([['o', true, 0]])
  return { sender, ch }
}

t.test('FeedSender: relays of an origin left out while the peer reports it up, resent with `resend` when down', async t => {
  const store = await openStore(t, { nodeId: 'r' })
  await relays(store, 0, 3)
  const { sender, ch } = await senderToLinkedPeer(t, store)
  sender.pump()
  await waitFor(() => ch.sent('batch').length === 1, { what: 'first batch' })
  t.same(ch.sent('batch')[0], { type: 'batch', prev: 0, seq: 3, round: 0, entries: [] }, 'all three left out: p gets them from o')
  sender.onAck(3)
  await waitFor(async () => await store.getCursor('p') === 0 && sender.cursor === 3, { what: 'the ack' })
  sender.onLinks([['o', false, 0]])
  await waitFor(() => ch.sent('batch').length === 2, { what: 'the resend' })
  const resend = ch.sent('batch')[1]
  t.same([resend.prev, resend.seq, resend.resend, resend.entries.length], [0, 3, true, 3], 'resent from before the left-out entries')
  sender.onAck(3)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(ch.failure, undefined, 'the resend’s ack is accepted')
  await waitFor(async () => await store.getCursor('p') === 3, { what: 'cursor persisted once confirmed by the resend' })
})

t.test('FeedSender: a batch that would carry nothing waits EMPTY_BATCH_DELAY_MS, or goes with the next entry to carry', async t => {
  const store = await openStore(t, { nodeId: 'r' })
  await relays(store, 0, 3)
  const { sender, ch } = await senderToLinkedPeer(t, store)
  const started = performance.now()
  sender.pump()
  await waitFor(() => ch.sent('batch').length === 1, { what: 'the held batch' })
  // Without the wait the batch goes within the pump's own turn of the event loop.
  t.ok((ch.sentAt[ch.frames.indexOf(ch.sent('batch')[0])] as number) - started >= EMPTY_BATCH_DELAY_MS - 1, 'nothing to carry: sent after the delay, not at once')
  t.same(ch.sent('batch')[0], { type: 'batch', prev: 0, seq: 3, round: 0, entries: [] }, 'the peer’s cursor moves over the left-out range')
  sender.onAck(3)

  // More relays, and then a change of this node's own: the left-out range goes with it.
  await relays(store, 3, 2)
  const [own] = await store.mark([{ user: 'u', message: 'own', status: 'unread' }])
  sender.pump()
  await waitFor(() => ch.sent('batch').length === 2, { what: 'the next batch' })
  const next = ch.sent('batch')[1]
  t.same([next.prev, next.seq, next.entries.map(e => e.message)], [3, own?.seq, ['own']], 'one batch: the own change (seq 6), covering the relays before it')
  t.equal(own?.seq, 6)
  t.equal(ch.failure, undefined)
})
