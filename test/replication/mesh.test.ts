import t from 'tap'
import { waitFor } from '../helpers/wait.js'
import { connected, fullMesh, startNodes, topology, unreadTable, winners, type TestNode } from './helpers.js'

const USERS = ['alice', 'bob', 'carol']

async function converged (nodes: TestNode[]): Promise<boolean> {
  const first = JSON.stringify(await winners(nodes[0].store))
  for (const n of nodes.slice(1)) if (JSON.stringify(await winners(n.store)) !== first) return false
  return true
}

t.test('3-node full mesh converges: identical winners and unread tables', async t => {
  const nodes = await startNodes(t, fullMesh(['a', 'b', 'c']))
  const [a, b, c] = ['a', 'b', 'c'].map(id => nodes.get(id) as TestNode)
  await waitFor(() => connected(a, 'b') && connected(a, 'c') && connected(b, 'c'), { what: 'mesh up' })
  // Conflicting marks on every node for the same messages, plus distinct ones.
  for (let round = 0; round < 5; round++) {
    await Promise.all([a, b, c].map(async (n, i) => await n.store.mark(USERS.flatMap(user => [
      { user, message: `m${round}`, status: (['read', 'unread', 'deleted'] as const)[(i + round) % 3] },
      { user, message: `${n.id}-${round}`, status: 'unread' as const }
    ]))))
  }
  await waitFor(async () => await converged([a, b, c]), { what: 'winners converge' })
  const tables = await Promise.all([a, b, c].map(async n => await unreadTable(n.store, USERS)))
  t.same(tables[1], tables[0])
  t.same(tables[2], tables[0])
  t.equal((await winners(a.store)).length, 3 * 5 * 4, 'every pair has a winner')
  t.ok(tables[0].alice.count >= 15, 'distinct unread messages are there')
  // exactly one session per pair, whoever dialed first
  for (const n of [a, b, c]) {
    for (const p of n.repl.status()) t.ok(p.connected, `${n.id} → ${p.id} connected`)
  }
  const st = a.repl.status().find(p => p.id === 'b')
  t.ok((st?.entriesEntered ?? 0) > 0 && (st?.batchesReceived ?? 0) > 0, 'counters move')
  await waitFor(() => a.repl.status().every(p => p.behind === 0), { what: 'a acknowledged by all' })
})

t.test('chain A-B-C-D relays, and nothing is echoed back', async t => {
  const ids = ['a', 'b', 'c', 'd']
  const nodes = await startNodes(t, topology(ids, [['a', 'b'], ['b', 'c'], ['c', 'd']]))
  const [a, b, c, d] = ids.map(id => nodes.get(id) as TestNode)
  await waitFor(() => connected(a, 'b') && connected(b, 'c') && connected(c, 'd'), { what: 'chain up' })
  await a.store.mark([{ user: 'alice', message: 'x', status: 'read' }, { user: 'bob', message: 'y', status: 'unread' }])
  await waitFor(async () => (await d.store.get('alice', 'x'))?.status === 'read', { what: 'change at A reaches D' })
  await waitFor(async () => await converged([a, b, c, d]), { what: 'chain converges' })
  await waitFor(() => a.repl.status()[0].behind === 0 && c.repl.status().every(p => p.behind === 0), { what: 'acks' })
  const fromB = a.repl.status().find(p => p.id === 'b')
  t.equal(fromB?.entriesEntered, 0, 'A entered nothing from B')
  t.equal((fromB?.entriesDuplicate ?? 0) + (fromB?.entriesStale ?? 0), 0, 'A was sent nothing back')
  const bFromC = b.repl.status().find(p => p.id === 'c')
  t.equal((bFromC?.entriesEntered ?? 0) + (bFromC?.entriesDuplicate ?? 0), 0, 'B was sent nothing back by C')
  t.equal((await d.store.get('bob', 'y'))?.origin, 'a')
})

t.test('ring A-B-C-D-A relays without echo to the sender', async t => {
  const ids = ['a', 'b', 'c', 'd']
  const nodes = await startNodes(t, topology(ids, [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'a']]))
  const all = ids.map(id => nodes.get(id) as TestNode)
  const [a, , c] = all
  await waitFor(() => all.every(n => n.repl.status().every(p => p.connected)), { what: 'ring up' })
  await a.store.mark([{ user: 'alice', message: 'r', status: 'deleted' }])
  await waitFor(async () => await converged(all), { what: 'ring converges' })
  await waitFor(() => all.every(n => n.repl.status().every(p => p.behind === 0)), { what: 'acks' })
  for (const p of a.repl.status()) {
    t.equal(p.entriesEntered + p.entriesDuplicate + p.entriesStale, 0, `A got nothing back from ${p.id}`)
  }
  const cIn = c.repl.status().reduce((n, p) => n + p.entriesEntered, 0)
  t.equal(cIn, 1, 'the opposite node entered it once')
  t.equal((await c.store.get('alice', 'r'))?.status, 'deleted')
})

t.test('one session per pair, whoever dials; stop() is idempotent, even mid-dial', async t => {
  const nodes = await startNodes(t, fullMesh(['a', 'b']))
  const [a, b] = ['a', 'b'].map(id => nodes.get(id) as TestNode)
  const events: string[] = []
  for (const n of [a, b]) {
    n.repl.on('peer-connected', () => events.push(`${n.id}+`))
    n.repl.on('peer-disconnected', e => events.push(`${n.id}-${String(e.code)}`))
  }
  await waitFor(() => connected(a, 'b') && connected(b, 'a'), { what: 'link up' })
  await a.store.mark([{ user: 'u', message: 'one', status: 'read' }])
  await b.store.mark([{ user: 'u', message: 'two', status: 'unread' }])
  await waitFor(async () => (await a.store.get('u', 'two')) !== undefined && (await b.store.get('u', 'one')) !== undefined, { what: 'both ways' })
  // Settled: several heartbeats (seen as bytes) without any session change.
  const settled = events.length
  const heard = a.repl.status()[0].bytesReceived
  await waitFor(() => a.repl.status()[0].bytesReceived > heard + 300, { what: 'heartbeats' })
  t.equal(events.length, settled, `no churn (${events.join(' ')})`)
  t.ok(connected(a, 'b') && connected(b, 'a'))
  // b restarts: a keeps exactly one session, the new one.
  await b.stop()
  await waitFor(() => !connected(a, 'b'), { what: 'a sees b down' })
  await b.restart()
  await waitFor(() => connected(a, 'b') && connected(b, 'a'), { what: 'link back' })
  await b.store.mark([{ user: 'u', message: 'three', status: 'read' }])
  await waitFor(async () => (await a.store.get('u', 'three')) !== undefined, { what: 'replicates after restart' })
  // A node whose peer is unreachable stops cleanly while its dial is pending.
  await b.stop()
  await a.repl.stop()
  await a.repl.stop()
  t.notOk(connected(a, 'b'))
})
