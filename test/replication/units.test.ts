import t from 'tap'
import { Backoff } from '../../src/replication/backoff.js'
import { clockSample, correctionFor, median } from '../../src/replication/clock-sample.js'
import { prefersCandidate } from '../../src/replication/session-rule.js'

t.test('backoff doubles, is capped, jitters within [base/2, base], resets', async t => {
  const low = new Backoff(100, 1_000, () => 0)
  t.same([low.next(), low.next(), low.next(), low.next(), low.next(), low.next()], [50, 100, 200, 400, 500, 500])
  const high = new Backoff(100, 1_000, () => 1)
  t.same([high.next(), high.next()], [100, 200])
  high.reset()
  t.equal(high.next(), 100)
  const real = new Backoff()
  for (let i = 0; i < 50; i++) {
    const d = real.next()
    t.ok(d >= 50 && d <= 30_000, `delay ${d} in range`)
  }
})

t.test('NTP offset is round-trip corrected', async t => {
  // peer 1000 ms ahead, 20 ms each way, 5 ms processing
  t.same(clockSample(0, 1020, 1025, 45), { offsetMs: 1000, rttMs: 40 })
  t.same(clockSample(1000, 500, 500, 1000), { offsetMs: -500, rttMs: 0 })
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 3)
})

t.test('self-correction needs a strict, agreeing majority of at least two peers', async t => {
  const max = 60_000
  const ten = 600_000
  t.equal(correctionFor([], max), undefined, 'no peers: keep')
  t.equal(correctionFor([-ten], max), undefined, 'one peer cannot outvote us')
  t.equal(correctionFor([-ten, -ten + 2_000], max), -ten + 1_000, 'both agree: median')
  t.equal(correctionFor([-ten, 0], max), 0, 'one of two is no majority')
  t.equal(correctionFor([-ten, -ten, 0], max), -ten, 'two of three')
  t.equal(correctionFor([-ten, ten, -ten], max), undefined, 'skewed majority that disagrees: keep')
  t.equal(correctionFor([100, -200, 50], max), 0, 'all within the limit')
})

t.test('recent changes: exact identity, oldest evicted first', async t => {
  const { RecentChanges } = await import('../../src/replication/recent-changes.js')
  const r = new RecentChanges(2)
  const c = (message: string, ts = 5): { user: string, message: string, status: 'read', origin: string, ts: number } => ({ user: 'u', message, status: 'read', origin: 'a', ts })
  r.add(c('1'))
  r.add(c('2'))
  t.ok(r.has(c('1')) && r.has(c('2')))
  t.notOk(r.has(c('1', 6)), 'another timestamp is another change')
  t.notOk(r.has({ ...c('1'), origin: 'b' }), 'another origin is another change')
  r.add(c('3'))
  t.equal(r.size, 2)
  t.notOk(r.has(c('1')), 'oldest evicted')
  t.ok(r.has(c('3')))
  const off = new RecentChanges(0)
  off.add(c('1'))
  t.notOk(off.has(c('1')), 'capacity 0 remembers nothing')
})

t.test('changes by identity: one stamp, several changes, each found and forgotten alone', async t => {
  const { ByIdentity } = await import('../../src/replication/by-identity.js')
  const m = new ByIdentity<number>()
  const c = (message: string, origin = 'a'): { user: string, message: string, origin: string, ts: number } => ({ user: 'u', message, origin, ts: 9 })
  for (const [i, id] of [c('1'), c('2'), c('3'), c('1', 'b')].entries()) m.set(id, i)
  t.equal(m.size, 4)
  t.same([m.get(c('1')), m.get(c('2')), m.get(c('3')), m.get(c('1', 'b'))], [0, 1, 2, 3])
  t.equal(m.get({ ...c('1'), ts: 10 }), undefined, 'another stamp')
  m.set(c('2'), 7)
  t.equal(m.get(c('2')), 7, 'set again: replaced, not added')
  t.equal(m.size, 4)
  m.delete(c('3'), 99)
  t.equal(m.get(c('3')), 2, 'delete with another value: kept')
  for (const gone of [c('2'), c('1', 'b'), c('1'), c('3')]) {
    m.delete(gone)
    t.notOk(m.has(gone), `${gone.origin}:${gone.message} forgotten`)
  }
  t.equal(m.size, 0)
  m.delete(c('1'))
  t.equal(m.size, 0, 'deleting what is not there changes nothing')
})

t.test('recent changes: applies in flight are found until they settle', async t => {
  const { RecentChanges } = await import('../../src/replication/recent-changes.js')
  const r = new RecentChanges(10)
  let resolve: () => void = () => {}
  const applying = new Promise<void>(res => { resolve = res })
  const k = (message: string): { user: string, message: string, origin: string, ts: number } => ({ user: 'u', message, origin: 'a', ts: 7 })
  r.track([k('1'), k('2')], applying)
  t.equal(r.pendingFor(k('1')), applying)
  t.equal(r.pendingFor({ ...k('1'), user: 'v' }), undefined, 'same stamp, another user: another change')
  t.equal(r.pendingSize, 2)
  const later = new Promise<void>(() => {})
  r.track([k('2')], later)
  t.equal(r.pendingFor(k('2')), later, 'the newer apply carries it now')
  resolve()
  await applying
  await new Promise(res => setImmediate(res))
  t.equal(r.pendingFor(k('1')), undefined, 'forgotten once settled')
  t.equal(r.pendingFor(k('2')), later, 'but not while a newer apply carries it')
  const failing = Promise.reject(new Error('x'))
  r.track([k('3')], failing)
  await failing.catch(() => {})
  await new Promise(res => setImmediate(res))
  t.equal(r.pendingSize, 1, 'also when it fails (the newer apply stays)')
})

t.test('one session per pair: both ends keep the same session, whatever the order they see them in', async t => {
  const byA = { peer: 'b', dialer: 'a' }
  const byB = { peer: 'b', dialer: 'b' }
  // On node a (the lower id): the session a dialed wins, whichever came first.
  t.equal(prefersCandidate('a', byA, byB), true, 'a\'s dial replaces b\'s')
  t.equal(prefersCandidate('a', byB, byA), false, 'b\'s dial does not replace a\'s')
  // On node b the peer is a: the same session wins there.
  t.equal(prefersCandidate('b', { peer: 'a', dialer: 'a' }, { dialer: 'b' }), true)
  t.equal(prefersCandidate('b', { peer: 'a', dialer: 'b' }, { dialer: 'a' }), false)
  // Two sessions dialed by the same node (a redial): the newer wins.
  t.equal(prefersCandidate('a', byA, byA), true)
  t.equal(prefersCandidate('a', byB, byB), true)
})
