import t from 'tap'
import { Throughput } from '../../src/daemon/throughput.js'
import { OriginView } from '../../src/daemon/origin-view.js'
import { OffsetHistory } from '../../src/daemon/offset-history.js'
import type { PeerStatus } from '../../src/replication/api.js'
import { MAX_TRACKED_ORIGINS } from '../../src/limits.js'
import type { LogEntry } from '../../src/types.js'

t.test('throughput: increase per second over the window; a shrinking counter restarts, never negative', async t => {
  let now = 1_000
  let counters: Record<string, number> = { entries: 0 }
  const meter = new Throughput({ read: () => counters, sampleMs: 1_000, windowMs: 3_000, now: () => now })
  t.equal(meter.perSecond('entries'), 0, 'unknown before two samples')
  t.equal(meter.windowMs, 0)
  meter.sample()
  for (const value of [10, 20, 30, 40]) {
    now += 1_000
    counters = { entries: value }
    meter.sample()
  }
  t.equal(meter.windowMs, 3_000, 'the ring keeps windowMs worth of samples')
  t.equal(meter.perSecond('entries'), 10)
  t.equal(meter.perSecond('missing'), 0)
  now += 1_000
  counters = { entries: 5 }
  meter.sample()
  t.equal(meter.perSecond('entries'), 1.67, 'after a restart of the counter: its new value over the window')
})

t.test('throughput: start samples on a timer, stop clears it (idempotent)', async t => {
  let reads = 0
  const meter = new Throughput({ read: () => ({ n: ++reads }), sampleMs: 5 })
  meter.start()
  meter.start()
  t.equal(reads, 1, 'one sample at start')
  await new Promise<void>(resolve => {
    const check = setInterval(() => { if (reads >= 3) { clearInterval(check); resolve() } }, 5)
  })
  meter.stop()
  meter.stop()
  t.ok(meter.perSecond('n') > 0)
})

function entry (origin: string, originTime: number, localTime: number): LogEntry {
  return { seq: 1, user: 'u', message: 'm', status: 'read', origin, ts: originTime * 1024, originTime, localTime }
}

t.test('origin view: newest change per origin, apparent delay, bounded', async t => {
  const view = new OriginView()
  view.entered([entry('b', 1_000, 1_050), entry('b', 900, 2_000), entry('c', 5_000, 4_000)])
  t.same(view.get('b'), { origin: 'b', entries: 2, lastOriginTime: 1_000, lastLocalTime: 1_050, apparentDelayMs: 50 })
  t.equal(view.get('c')?.apparentDelayMs, -1_000, 'an origin clock ahead of ours shows negative')
  t.equal(view.get('x'), undefined)
  const many = Array.from({ length: MAX_TRACKED_ORIGINS + 5 }, (_, i) => entry(`n${i}`, 1, 1))
  view.entered(many)
  t.equal(view.get(`n${MAX_TRACKED_ORIGINS}`), undefined, 'origins beyond the limit are not tracked')
  t.ok(view.get('n0') !== undefined)
})

t.test('offset history: samples on change or age, nearest answers within the age, bounded', async t => {
  const history = new OffsetHistory()
  const peer = (clockOffsetMs: number | null, connected = true): PeerStatus => ({ id: 'b', connected, clockOffsetMs } as unknown as PeerStatus)
  history.record([peer(null)], 0)
  t.equal(history.at('b', 0), null, 'nothing measured yet')
  history.record([peer(20_000)], 1_000)
  history.record([peer(20_050)], 2_000)
  history.record([peer(5_000, false)], 2_500)
  history.record([peer(0)], 3_000)
  t.equal(history.at('b', 1_900), 20_000, 'a move under the delta is not a new sample')
  t.equal(history.at('b', 2_900), 0)
  t.equal(history.at('b', 200_000), null, 'too far from any sample')
  t.equal(history.at('c', 1_000), null)
  for (let i = 0; i < 2_000; i++) history.record([peer(i * 1_000)], 10_000 + i * 100)
  t.equal(history.at('b', 1_000), null, 'the oldest samples were dropped')
})
