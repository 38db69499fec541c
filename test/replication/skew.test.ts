import t from 'tap'
import { physicalMs } from '../../src/hlc.js'
import { DEFAULT_MAX_CLOCK_SKEW_MS } from '../../src/limits.js'
import { waitFor } from '../helpers/wait.js'
import { connected, fullMesh, startNodes, winners, type TestNode } from './helpers.js'
import { RawPeer } from './raw-peer.js'

const TEN_MINUTES = 10 * 60_000

function peer (n: TestNode, id: string): ReturnType<TestNode['repl']['status']>[number] {
  return n.repl.status().find(p => p.id === id) as ReturnType<TestNode['repl']['status']>[number]
}

/** How far a node's HLC is ahead of the real clock, in ms. */
function hlcLead (n: TestNode): number {
  return physicalMs(n.store.clock.last) - Date.now()
}

t.test('a node 10 minutes ahead is held, corrects itself, and its changes flow once its clock is back', async t => {
  const heartbeatMs = 100
  const specs = fullMesh(['a', 'b', 'c'], { heartbeatMs })
  specs[2].skewMs = TEN_MINUTES
  const nodes = await startNodes(t, specs)
  const [a, b, c] = ['a', 'b', 'c'].map(id => nodes.get(id) as TestNode)
  const corrections: number[] = []
  c.repl.on('clock-corrected', e => corrections.push(e.correctionMs))

  await waitFor(() => connected(a, 'c') && connected(b, 'c') && connected(a, 'b'), { what: 'mesh up' })
  await waitFor(() => peer(a, 'c').skewed && peer(b, 'c').skewed, { what: 'c marked skewed' })
  t.ok(Math.abs((peer(a, 'c').clockOffsetMs ?? 0) - TEN_MINUTES) < 5_000, 'offset measured as about +10 min')
  t.notOk(peer(a, 'b').skewed, 'a and b agree')
  // c sees both peers 10 minutes behind, they agree: its own clock is the odd one out.
  await waitFor(() => Math.abs(c.repl.clockCorrectionMs + TEN_MINUTES) < 5_000, { what: 'c corrects itself' })
  t.ok(corrections.length >= 1, 'clock-corrected emitted')

  await c.store.mark([{ user: 'u', message: 'from-c', status: 'read' }, { user: 'u', message: 'c2', status: 'unread' }])
  await a.store.mark([{ user: 'u', message: 'from-a', status: 'unread' }])
  t.ok(hlcLead(c) < DEFAULT_MAX_CLOCK_SKEW_MS, 'c stamps with the corrected clock, not 10 minutes ahead')
  // c still receives from its peers: their timestamps are behind its clock, harmless.
  await waitFor(async () => (await c.store.get('u', 'from-a')) !== undefined, { what: 'a → c flows' })
  // Let several heartbeats pass (seen as bytes from c), then check that c's changes were held.
  const heard = peer(a, 'c').bytesReceived
  await waitFor(() => peer(a, 'c').bytesReceived > heard + 200, { what: 'heartbeats from c' })
  t.equal(await a.store.get('u', 'from-c'), undefined, 'a holds c\'s changes')
  t.equal(await b.store.get('u', 'from-c'), undefined, 'b holds c\'s changes')
  t.equal(peer(a, 'c').entriesEntered, 0)
  t.ok(peer(c, 'a').behind > 0, 'they wait on c\'s disk')
  for (const n of [a, b, c]) t.ok(hlcLead(n) < DEFAULT_MAX_CLOCK_SKEW_MS, `${n.id}: HLC not dragged ahead`)

  // The clock comes back: c is marked ok, resumes, and the held changes replicate.
  let ok = false
  a.repl.on('peer-clock-ok', e => { if (e.peer === 'c') ok = true })
  c.skew.ms = 0
  await waitFor(() => ok, { what: 'a sees c ok' })
  await waitFor(async () => (await a.store.get('u', 'from-c'))?.status === 'read' && (await b.store.get('u', 'c2')) !== undefined, { what: 'held changes flow' })
  await waitFor(() => c.repl.clockCorrectionMs === 0, { what: 'c drops its correction' })
  await waitFor(async () => {
    const w = JSON.stringify(await winners(a.store))
    return w === JSON.stringify(await winners(b.store)) && w === JSON.stringify(await winners(c.store))
  }, { what: 'convergence' })
  for (const n of [a, b, c]) t.ok(hlcLead(n) < DEFAULT_MAX_CLOCK_SKEW_MS, `${n.id}: HLC sane at the end`)
})

t.test('skew appearing mid-session is detected within two heartbeats', async t => {
  // Counted in heartbeats (pings the peer received), not wall time, so a loaded machine
  // cannot make it flaky.
  const nodes = await startNodes(t, [{ id: 'a', peers: ['x'] }])
  const a = nodes.get('a') as TestNode
  const x = await RawPeer.connect(a.port)
  t.teardown(() => x.close())
  await x.handshake('x', 'a')
  await waitFor(() => connected(a, 'x') && x.pings >= 2, { what: 'link up, heartbeats flowing' })
  t.notOk(peer(a, 'x').skewed)
  let pingsAtDetection = -1
  a.repl.on('peer-skewed', e => { if (e.peer === 'x') pingsAtDetection = x.pings })
  const pingsAtChange = x.pings
  x.clockOffsetMs = TEN_MINUTES
  await waitFor(() => pingsAtDetection >= 0, { what: 'x marked skewed' })
  t.ok(pingsAtDetection - pingsAtChange <= 2, `detected after ${pingsAtDetection - pingsAtChange} heartbeat(s)`)
  t.ok(Math.abs((peer(a, 'x').clockOffsetMs ?? 0) - TEN_MINUTES) < 5_000)
  // x is ahead: a refuses its batches and tells it so.
  await x.next('hold')
  let okAt = -1
  a.repl.on('peer-clock-ok', e => { if (e.peer === 'x') okAt = x.pings })
  const pingsAtFix = x.pings
  x.clockOffsetMs = 0
  await waitFor(() => okAt >= 0, { what: 'x ok again' })
  t.ok(okAt - pingsAtFix <= 2, `ok after ${okAt - pingsAtFix} heartbeat(s)`)
  t.equal((await x.next('resume')).round, 1)
})

t.test('timestamps from the future wait until the receiver\'s clock reaches them', async t => {
  // One peer only: no majority to correct c, so its changes are stamped ahead.
  const maxClockSkewMs = 1_000
  const nodes = await startNodes(t, [
    { id: 'a', peers: ['c'], maxClockSkewMs },
    { id: 'c', peers: ['a'], maxClockSkewMs, skewMs: 6_000 }
  ])
  const [a, c] = ['a', 'c'].map(id => nodes.get(id) as TestNode)
  let futureHolds = 0
  a.repl.on('peer-held', e => { if (e.reason === 'FUTURE_TIMESTAMP') futureHolds++ })
  await waitFor(() => connected(a, 'c') && peer(a, 'c').skewed, { what: 'c skewed' })
  const [entry] = await c.store.mark([{ user: 'u', message: 'future', status: 'read' }])
  t.ok(entry.originTime - Date.now() > 3_000, 'stamped about 6 s ahead')
  c.skew.ms = 0 // its clock is fine again, but the change keeps its future timestamp
  await waitFor(async () => (await a.store.get('u', 'future'))?.status === 'read', { timeoutMs: 15_000, what: 'delivered once due' })
  t.ok(Date.now() >= entry.originTime - maxClockSkewMs, 'not before it was within the tolerance')
  t.ok(hlcLead(a) <= maxClockSkewMs, 'a\'s HLC never ran ahead beyond the tolerance')
  t.ok(futureHolds >= 1, 'refused by the store, held for its stamps (FUTURE_TIMESTAMP)')
})

t.test('this node\'s own wall clock jumping is reported', async t => {
  const nodes = await startNodes(t, [{ id: 'a', peers: [] }])
  const a = nodes.get('a') as TestNode
  const jumps: Array<{ fromMs: number, toMs: number }> = []
  a.repl.on('clock-jump', e => jumps.push(e))
  a.skew.ms = 30_000 // forward: seen by the heartbeat against the monotonic clock
  await waitFor(() => jumps.length > 0, { what: 'forward jump' })
  t.ok(jumps[0].toMs - jumps[0].fromMs > 25_000, 'about +30 s')
  await a.store.mark([{ user: 'u', message: 'm', status: 'read' }])
  a.skew.ms = 0 // backward: seen by the store when it next stamps
  await a.store.mark([{ user: 'u', message: 'm2', status: 'read' }])
  await waitFor(() => jumps.some(j => j.toMs < j.fromMs), { what: 'backward jump' })
})
