/**
 * Anti-entropy between real `marksync` processes. Two nodes are made to diverge the way a
 * bad relay would leave them: while a node is stopped, changes claiming the other node as
 * origin are written into its store through the library. Replication never sends a node
 * changes of its own origin, so only anti-entropy can bring them over.
 */
import t from 'tap'
import { Store } from '../../src/store/index.js'
import type { Change, MessageState } from '../../src/types.js'
import { fetchWinners } from '../chaos/dump.js'
import { apiCall, runCli, startDaemon, writeMesh, type DaemonProcess, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

const WAIT = { timeoutMs: 60_000, intervalMs: 100 }

function key (w: MessageState): string {
  return JSON.stringify([w.user, w.message, w.status, w.origin, w.ts])
}

async function winnerKeys (mesh: TestMesh, id: string): Promise<string[]> {
  return (await fetchWinners(mesh.nodes[id].api)).map(key)
}

/** Writes changes into a stopped node's store, as received from `from`. */
async function writeBehind (mesh: TestMesh, id: string, changes: Change[], from: string): Promise<void> {
  const store = new Store({ location: mesh.nodes[id].dataDir, nodeId: id, durability: 'sync' })
  await store.open()
  try {
    await store.applyRemote(changes, { from })
  } finally {
    await store.close()
  }
}

function bad (origin: string, users: string[], tag: string): Change[] {
  const ts = (Date.now() - 60_000) * 1024
  return users.flatMap((user, u) => [0, 1].map(m => ({ user, message: `${tag}-${m}`, status: 'read' as const, origin, ts: ts + u * 2 + m })))
}

async function connectedBoth (mesh: TestMesh): Promise<boolean> {
  for (const id of ['a', 'b']) {
    const status = await apiCall(mesh.nodes[id].api, 'GET', '/v1/status')
    if (status.status !== 200 || !(status.body.peers as Array<{ connected: boolean }>).every(p => p.connected)) return false
  }
  return true
}

t.test('a divergence replication cannot see is found and repaired, on demand and periodically', async t => {
  const dir = await tempDir(t)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'], settings: { antiEntropyInterval: 0, durability: 'relaxed' } })
  const daemons: DaemonProcess[] = await Promise.all(['a', 'b'].map(async id => await startDaemon(t, mesh, id)))
  await waitFor(async () => await connectedBoth(mesh), { ...WAIT, what: 'a and b connected' })
  await runCli(['mark', 'alice', 'm1', 'm2', '--status', 'unread', '--api', mesh.nodes.a.api])
  await waitFor(async () => (await winnerKeys(mesh, 'b')).length === 2, { ...WAIT, what: 'replicated' })
  await Promise.all(daemons.map(async d => await d.stop()))

  // a holds changes "from b" that b never made; b holds changes "from a" that a never made.
  await writeBehind(mesh, 'a', bad('b', ['u1', 'u2', 'u3'], 'x'), 'b')
  await writeBehind(mesh, 'b', bad('a', ['u4', 'u5'], 'y'), 'a')
  await Promise.all(['a', 'b'].map(async id => await startDaemon(t, mesh, id)))
  await waitFor(async () => await connectedBoth(mesh), { ...WAIT, what: 'reconnected' })
  t.equal((await winnerKeys(mesh, 'a')).length, 2 + 6, 'replication alone does not carry them')
  t.equal((await winnerKeys(mesh, 'b')).length, 2 + 4)

  const one = await runCli(['repair', '--user', 'u4', '--api', mesh.nodes.a.api])
  t.equal(one.code, 0, one.stderr)
  t.match(one.stdout, /^b: 1 users differed in 0 buckets; 2 winners entered here, 0 at b/)
  t.equal((await winnerKeys(mesh, 'a')).length, 2 + 6 + 2, 'only u4 came over')

  const all = await apiCall(mesh.nodes.a.api, 'POST', '/v1/repair', { body: {} })
  t.equal(all.status, 200)
  t.match(all.body.rounds, [{ peer: 'b', ok: true, same: false, users: 4, pulled: 2, pushed: 6 }])
  const [ka, kb] = [await winnerKeys(mesh, 'a'), await winnerKeys(mesh, 'b')]
  t.equal(ka.length, 12)
  t.same(kb, ka, 'same winners on both')
  const again = await runCli(['repair', '--api', mesh.nodes.b.api])
  t.match(again.stdout, /^a: same winners \(\d+ bytes, \d+ ms\)/)

  const status = (await apiCall(mesh.nodes.a.api, 'GET', '/v1/status')).body
  t.match(status.antiEntropy, { intervalMs: 0, rounds: 2, roundsFailed: 0, divergentUsers: 5, entriesRepaired: 4 })
  const metrics = (await apiCall(mesh.nodes.a.api, 'GET', '/metrics')).text
  t.match(metrics, /marksync_anti_entropy_divergent_users_total 5/)
  t.match(metrics, /marksync_anti_entropy_repaired_entries_total\{direction="pushed"\} 6/)
  t.match(metrics, /marksync_anti_entropy_rounds_total\{outcome="differed"\} 2/)
  t.equal((await apiCall(mesh.nodes.a.api, 'POST', '/v1/repair', { body: { peer: 'zz' } })).status, 404)
  t.equal((await apiCall(mesh.nodes.a.api, 'POST', '/v1/repair', { body: { user: '' } })).status, 400)
})

t.test('periodic rounds repair without being asked', async t => {
  const dir = await tempDir(t)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'], settings: { antiEntropyInterval: '1s', durability: 'relaxed' } })
  await writeBehind(mesh, 'a', bad('b', ['p1', 'p2'], 'z'), 'b')
  const a = await startDaemon(t, mesh, 'a')
  const b = await startDaemon(t, mesh, 'b')
  await waitFor(async () => (await winnerKeys(mesh, 'b')).length === 4, { ...WAIT, what: 'b repaired by a periodic round' })
  t.same(await winnerKeys(mesh, 'b'), await winnerKeys(mesh, 'a'))
  // Whichever node's round came first found it (a pushing, or b pulling) and said so.
  const logged = await waitFor(() => [...a.logs, ...b.logs].find(l => l.event === 'anti-entropy-divergence'), { ...WAIT, what: 'the divergence logged' })
  t.match(logged, { users: 2 })
})
