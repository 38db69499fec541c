import t from 'tap'
import { HybridClock, physicalMs, type ClockStep } from '../src/hlc.js'
import { correctionFor } from '../src/replication/clock-sample.js'

const NOW = 1_800_000_000_000

/** A wall clock and a monotonic clock the test moves by hand. */
function clocks (): { wall: number, mono: number, steps: ClockStep[], clock: HybridClock } {
  const c = { wall: NOW, mono: 0, steps: [] as ClockStep[], clock: undefined as unknown as HybridClock }
  c.clock = new HybridClock({ wallClock: () => c.wall, monotonicClock: () => c.mono, maxDriftMs: 60_000, onStep: s => { c.steps.push(s) } })
  return c
}

t.test('a step forward is compensated at once: nothing is stamped in the future', async t => {
  const c = clocks()
  t.equal(physicalMs(c.clock.now()), NOW)
  c.wall += 7 * 60_000 + 5 // the wall clock leaps 7 min while 5 ms pass
  c.mono += 5
  t.equal(physicalMs(c.clock.now()), NOW + 5, 'stamped on the old timeline')
  t.same(c.steps, [{ fromMs: NOW + 5, toMs: NOW + 7 * 60_000 + 5, correctionMs: -7 * 60_000 }])
  c.wall -= 7 * 60_000 - 5 // and comes back, 5 ms later
  c.mono += 5
  t.equal(physicalMs(c.clock.now()), NOW + 10, 'the step back cancels the compensation')
  t.equal(c.clock.correctionMs, 0)
  t.equal(c.steps.length, 2)
})

t.test('a step back is not compensated (the HLC stays monotonic by itself)', async t => {
  const c = clocks()
  const before = c.clock.now()
  c.wall -= 5 * 60_000
  t.ok(c.clock.now() > before, 'never backwards')
  t.equal(c.clock.correctionMs, 0)
  t.equal(c.steps.length, 1, 'but reported')
})

t.test('steps within CLOCK_JUMP_MS are ordinary clock drift', async t => {
  const c = clocks()
  c.wall += 900
  c.clock.now()
  t.equal(c.clock.correctionMs, 0)
  t.same(c.steps, [])
})

t.test('a listener reading the clock sees a step once', async t => {
  let reads = 0
  const c = { wall: NOW }
  const clock: HybridClock = new HybridClock({
    wallClock: () => c.wall,
    monotonicClock: () => 0,
    onStep: () => { reads++; clock.wallTime() }
  })
  c.wall += 60_000
  clock.wallTime()
  t.equal(reads, 1)
  t.equal(clock.correctionMs, -60_000)
})

t.test('received timestamps are checked against the corrected clock', async t => {
  const c = clocks()
  c.clock.setCorrection(5 * 60_000) // peers agree this clock is 5 min slow
  t.doesNotThrow(() => { c.clock.check((NOW + 5 * 60_000) * 1024) }, 'a peer\'s true time is not refused')
  t.throws(() => { c.clock.check((NOW + 10 * 60_000) * 1024) }, { code: "CLOCK_SKEW" })
})

t.test('peers confirm or correct the clock', async t => {
  t.equal(correctionFor([], 60_000), undefined, 'no peers: keep what the clock has')
  t.equal(correctionFor([200], 60_000), 0, 'one agreeing peer confirms the raw clock')
  t.equal(correctionFor([-420_000], 60_000), undefined, 'one disagreeing peer is not a majority')
  t.equal(correctionFor([-420_000, -419_000, 100], 60_000), -419_500, 'an agreeing skewed majority sets the correction')
})
