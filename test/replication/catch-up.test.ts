import t from 'tap'
import { waitFor } from '../helpers/wait.js'
import { connected, fullMesh, startNodes, winners, type TestNode } from './helpers.js'

async function same (x: TestNode, y: TestNode): Promise<boolean> {
  return JSON.stringify(await winners(x.store)) === JSON.stringify(await winners(y.store))
}

t.test('a restarted node catches up from its cursor, without a state transfer', async t => {
  const nodes = await startNodes(t, fullMesh(['a', 'b', 'c']))
  const [a, b, c] = ['a', 'b', 'c'].map(id => nodes.get(id) as TestNode)
  await waitFor(() => connected(a, 'c') && connected(b, 'c') && connected(a, 'b'), { what: 'mesh up' })
  await c.store.mark([{ user: 'u', message: 'before', status: 'unread' }])
  await waitFor(async () => (await a.store.get('u', 'before')) !== undefined && a.repl.status().every(p => p.behind === 0))
  await c.stop()
  await waitFor(() => !connected(a, 'c') && !connected(b, 'c'), { what: 'c seen down' })
  for (let i = 0; i < 20; i++) {
    await a.store.mark([{ user: 'u', message: `a${i}`, status: 'unread' }])
    await b.store.mark([{ user: 'v', message: `b${i}`, status: 'read' }])
  }
  const cursorBefore = a.repl.status().find(p => p.id === 'c')?.cursor ?? 0
  t.ok(cursorBefore > 0, 'a had a cursor for c')
  await c.restart()
  await waitFor(async () => await same(a, c) && await same(b, c), { what: 'c caught up' })
  t.equal((await c.store.get('u', 'before'))?.status, 'unread', 'its own data survived the restart')
  for (const n of [a, b]) {
    t.equal(n.repl.status().find(p => p.id === 'c')?.stateTransfers, 0, `${n.id} sent no state transfer`)
  }
  await waitFor(() => (a.repl.status().find(p => p.id === 'c')?.cursor ?? 0) === a.store.lastSeq, { what: 'cursor acknowledged' })
})

t.test('beyond the purge horizon a node catches up by state transfer', async t => {
  // Small chunks and window so the transfer takes many acknowledged rounds.
  const opts = { batchEntries: 37, window: 2 }
  const nodes = await startNodes(t, fullMesh(['a', 'b', 'c'], opts))
  const [a, b, c] = ['a', 'b', 'c'].map(id => nodes.get(id) as TestNode)
  await waitFor(() => connected(a, 'c') && connected(b, 'c'), { what: 'mesh up' })
  await c.stop()
  await waitFor(() => !connected(a, 'c') && !connected(b, 'c'), { what: 'c seen down' })
  const changes = []
  for (let i = 0; i < 500; i++) changes.push({ user: `user${i % 7}`, message: `msg${i}`, status: (['read', 'unread', 'deleted'] as const)[i % 3] })
  await a.store.mark(changes.slice(0, 300))
  await b.store.mark(changes.slice(200))
  await waitFor(async () => await same(a, b), { what: 'a and b agree' })
  // Everything in the feeds of a and b is older than "now + 1 ms": purge it all.
  for (const n of [a, b]) {
    const r = await n.store.purge(Date.now() + 1)
    t.equal(r.oldestSeq, n.store.lastSeq + 1, `${n.id}: feed empty`)
  }
  const events: Array<{ direction: string, phase: string }> = []
  a.repl.on('state-transfer', e => events.push(e))
  b.repl.on('state-transfer', e => events.push(e))
  await c.restart()
  await waitFor(async () => await same(a, c), { timeoutMs: 15_000, what: 'c converged by state transfer' })
  const sent = [a, b].reduce((n, x) => n + (x.repl.status().find(p => p.id === 'c')?.stateTransfers ?? 0), 0)
  t.ok(sent >= 1, 'a state transfer was sent')
  await waitFor(() => events.some(e => e.direction === 'send' && e.phase === 'end'), { what: 'transfer finished' })
  t.equal(await c.store.unreadCount('user1'), await a.store.unreadCount('user1'))
  // After the transfer the feed takes over again.
  await a.store.mark([{ user: 'after', message: 'transfer', status: 'read' }])
  await waitFor(async () => (await c.store.get('after', 'transfer'))?.status === 'read', { what: 'feed resumes' })
  await waitFor(() => (a.repl.status().find(p => p.id === 'c')?.cursor ?? 0) === a.store.lastSeq, { what: 'cursor at lastSeq' })
})
