/**
 * The "Membership changes" procedures of docs/operations.md, followed step by step as an
 * admin would, on real `marksync` processes: a host added to a running two-node mesh gets
 * the whole state; a retired host's changes stay winners everywhere while the others keep
 * replicating, and an origin that was never a member is still refused.
 */
import t from 'tap'
import { fetchUnread, fetchWinners, winnersDigest } from '../chaos/dump.js'
import { apiCall, runCli, startDaemon, writeMesh, type DaemonProcess, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { RawPeer } from '../replication/raw-peer.js'
import { batchFrame, change, markMany, meshSecret, rawPeerAs, waitUnread, winner, SLOW_START } from './helpers.js'

type Tap = NonNullable<Parameters<typeof startDaemon>[0]>
const USERS = ['alice', 'bob', 'carol']
const WAIT = { timeoutMs: 60_000, intervalMs: 100 }

/** The mesh file with `members` as its nodes (ports fixed when the test mesh was made) and `retired`. */
async function rollOut (mesh: TestMesh, all: Array<Record<string, unknown>>, members: string[], retired: string[] = []): Promise<void> {
  await mesh.rewrite({ ...mesh.json, nodes: all.filter(n => members.includes(n.id as string)), retired })
  const check = await runCli(['config', 'check', mesh.file])
  if (check.code !== 0) throw new Error(`config check failed: ${check.stdout}${check.stderr}`)
}

/** Restarts the nodes one at a time (SIGTERM, then start), as operations.md says. */
async function rollingRestart (tt: Tap, mesh: TestMesh, nodes: Record<string, DaemonProcess>, ids: string[]): Promise<void> {
  for (const id of ids) {
    await nodes[id].stop()
    nodes[id] = await startDaemon(tt, mesh, id, SLOW_START)
  }
}

async function peersOf (api: string): Promise<Array<{ id: string, connected: boolean, behind: number }>> {
  return (await apiCall(api, 'GET', '/v1/status')).body.peers
}

/** Waits until `node` reports peer `peer` connected with nothing left to acknowledge. */
async function waitCaughtUp (mesh: TestMesh, node: string, peer: string): Promise<void> {
  await waitFor(async () => (await peersOf(mesh.nodes[node].api)).some(p => p.id === peer && p.connected && p.behind === 0),
    { ...WAIT, what: `${node} reporting ${peer} connected with behind 0` })
}

/** Every node's winners, compared on what replicas must agree on. */
async function digests (mesh: TestMesh, ids: string[]): Promise<string[]> {
  return await Promise.all(ids.map(async id => winnersDigest(await fetchWinners(mesh.nodes[id].api))))
}

async function unreadCounts (mesh: TestMesh, id: string): Promise<number[]> {
  return await Promise.all(USERS.map(async user => {
    const { messages, count } = await fetchUnread(mesh.nodes[id].api, user)
    if (messages.length !== count) throw new Error(`${id}: ${user} lists ${messages.length} unread but counts ${count}`)
    return count
  }))
}

/** Waits until every node in `ids` has the same winners; returns how many. */
async function waitSameWinners (mesh: TestMesh, ids: string[]): Promise<number> {
  await waitFor(async () => new Set(await digests(mesh, ids)).size === 1, { ...WAIT, what: `the same winners on ${ids.join(', ')}` })
  return (await fetchWinners(mesh.nodes[ids[0]].api)).length
}

/** A two-node mesh a, b with changes made on both (some of them on the other's messages). */
async function twoNodeMesh (tt: Tap): Promise<{ mesh: TestMesh, all: Array<Record<string, unknown>>, nodes: Record<string, DaemonProcess> }> {
  const mesh = await writeMesh(await tempDir(tt), { nodes: ['a', 'b', 'c'] })
  const all = mesh.json.nodes as Array<Record<string, unknown>>
  await rollOut(mesh, all, ['a', 'b'])
  const nodes: Record<string, DaemonProcess> = {}
  for (const id of ['a', 'b']) nodes[id] = await startDaemon(tt, mesh, id, SLOW_START)
  await markMany(mesh.nodes.a.api, 'alice', 'a', 300)
  await markMany(mesh.nodes.b.api, 'bob', 'b', 300)
  await markMany(mesh.nodes.b.api, 'alice', 'a', 100, 'read')
  await markMany(mesh.nodes.a.api, 'bob', 'b', 50, 'deleted')
  for (const id of ['a', 'b']) await waitUnread(mesh.nodes[id].api, 'alice', 200, WAIT.timeoutMs)
  for (const id of ['a', 'b']) await waitUnread(mesh.nodes[id].api, 'bob', 250, WAIT.timeoutMs)
  return { mesh, all, nodes }
}

/** operations.md "Adding a host", for host c. */
async function addC (tt: Tap, mesh: TestMesh, all: Array<Record<string, unknown>>, nodes: Record<string, DaemonProcess>): Promise<void> {
  // 1. Add c to nodes; config check.
  await rollOut(mesh, all, ['a', 'b', 'c'])
  // 2. Restart the existing nodes one at a time; the mesh keeps taking changes meanwhile.
  await nodes.a.stop()
  await markMany(mesh.nodes.b.api, 'carol', 'while-a-restarts', 40)
  nodes.a = await startDaemon(tt, mesh, 'a', SLOW_START)
  await rollingRestart(tt, mesh, nodes, ['b'])
  await markMany(mesh.nodes.a.api, 'carol', 'after-rollout', 20)
  // 3. Start c with an empty data directory.
  nodes.c = await startDaemon(tt, mesh, 'c', SLOW_START)
}

t.test('adding a host: the new node gets the whole state, winners and unread counts', async tt => {
  const { mesh, all, nodes } = await twoNodeMesh(tt)
  await addC(tt, mesh, all, nodes)

  // What operations.md says to watch: every existing node reports c with behind 0.
  for (const id of ['a', 'b']) await waitCaughtUp(mesh, id, 'c')
  const [a, b, c] = await digests(mesh, ['a', 'b', 'c'])
  tt.equal(a, b, 'a and b have the same winners')
  tt.equal(c, a, 'once a and b report c caught up, c has every winner')
  const winners = await fetchWinners(mesh.nodes.c.api)
  tt.equal(winners.length, 660, 'c has all 660 winners')
  tt.ok(winners.some(w => w.origin === 'a') && winners.some(w => w.origin === 'b'), 'changes of both origins')
  const counts = await unreadCounts(mesh, 'c')
  tt.same(counts, [200, 250, 60], 'c counts the unread of every user as they are')
  for (const id of ['a', 'b']) tt.same(await unreadCounts(mesh, id), counts, `${id} counts the same unread`)

  // c is a full member: its changes reach a and b.
  await markMany(mesh.nodes.c.api, 'carol', 'from-c', 5)
  for (const id of ['a', 'b']) await waitUnread(mesh.nodes[id].api, 'carol', 65, WAIT.timeoutMs)
  tt.equal(await waitSameWinners(mesh, ['a', 'b', 'c']), 665, 'every node has the same 665 winners')
})

t.test('retiring a host: its changes stay winners everywhere, the others keep replicating, strangers are refused', async tt => {
  const { mesh, all, nodes } = await twoNodeMesh(tt)
  await addC(tt, mesh, all, nodes)
  await markMany(mesh.nodes.b.api, 'carol', 'b-last', 10)
  await waitSameWinners(mesh, ['a', 'b', 'c'])

  // 1. b finishes sending: its status shows behind 0 for every peer; then it stops for good.
  await waitFor(async () => (await peersOf(mesh.nodes.b.api)).every(p => p.behind === 0), { ...WAIT, what: 'b having sent everything' })
  const before = await fetchWinners(mesh.nodes.b.api)
  const fromB = before.filter(w => w.origin === 'b')
  await nodes.b.stop()
  // 2. Move b from nodes to retired; config check.
  await rollOut(mesh, all, ['a', 'c'], ['b'])
  // 3. Restart the remaining nodes one at a time.
  await rollingRestart(tt, mesh, nodes, ['a'])
  await nodes.c.stop()
  // While c restarts, a peer speaking for c offers a an origin that was never a member: refused.
  const impostor = await rawPeerAs(tt, mesh, 'c', 'a')
  impostor.send(batchFrame(0, 2, [change('carol', 'fine', 'c'), change('carol', 'stranger', 'zed')]))
  await impostor.waitClosed(15_000)
  tt.equal(impostor.errorCode(), 'UNKNOWN_ORIGIN', 'a change whose origin was never a member is refused')
  tt.equal(await winner(mesh.nodes.a.api, 'carol', 'stranger'), undefined, 'and does not enter')
  tt.equal(await winner(mesh.nodes.a.api, 'carol', 'fine'), undefined, 'nor does the rest of its batch')
  nodes.c = await startDaemon(tt, mesh, 'c', SLOW_START)

  // b coming back is refused: it is no peer any more.
  const ghost = await RawPeer.connect(mesh.nodes.a.peerPort)
  tt.teardown(() => ghost.close())
  await tt.rejects(ghost.handshake('b', 'a', { secret: meshSecret(mesh), cluster: mesh.cluster }), 'the retired host cannot open a session')
  tt.equal(ghost.errorCode(), 'UNKNOWN_PEER')

  // b's changes are still winners on every remaining node; new changes flow both ways.
  tt.ok(fromB.length >= 300, `b made ${fromB.length} of the winners`)
  await markMany(mesh.nodes.a.api, 'carol', 'a-after-retire', 7)
  await markMany(mesh.nodes.c.api, 'carol', 'c-after-retire', 9)
  for (const id of ['a', 'c']) await waitUnread(mesh.nodes[id].api, 'carol', 70 + 7 + 9, WAIT.timeoutMs)
  tt.equal(await waitSameWinners(mesh, ['a', 'c']), before.length + 16, 'a and c have the same winners: all of before, and the 16 new')
  for (const id of ['a', 'c']) {
    const now = await fetchWinners(mesh.nodes[id].api)
    const kept = winnersDigest(now.filter(w => w.origin === 'b'))
    tt.equal(kept, winnersDigest(fromB), `${id} keeps every winner of b's, unchanged`)
  }
  tt.same(await unreadCounts(mesh, 'c'), await unreadCounts(mesh, 'a'), 'a and c count the same unread')
})
