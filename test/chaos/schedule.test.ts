import t from 'tap'
import { countByKind, describeFault, generateSchedule, type Fault, type ScheduleOptions } from './schedule.js'
import { Prng } from '../helpers/prng.js'

const nodes = ['a', 'b', 'c', 'd', 'e']
const links = nodes.flatMap((x, i) => nodes.slice(i + 1).map(y => [x, y] as const))
const short: ScheduleOptions = {
  seed: 42, nodes, links, durationMs: 60_000, faults: 24, minKills: 3, minPartitions: 1,
  skews: 1, longDowns: 1, longDownMs: 25_000, maxDown: 2
}

function overlaps (x: Fault, y: Fault, settle = 1_500): boolean {
  return x.at < y.at + y.durationMs + settle && y.at < x.at + x.durationMs + settle
}

t.test('the same seed gives the same schedule; another seed another one', async t => {
  const one = generateSchedule(short)
  t.same(generateSchedule(short), one)
  t.notSame(generateSchedule({ ...short, seed: 43 }), one)
})

t.test('required faults are there and the constraints hold, for many seeds', async t => {
  for (let seed = 1; seed <= 200; seed++) {
    const faults = generateSchedule({ ...short, seed })
    const counts = countByKind(faults)
    if (faults.length < 20 || counts.kill + counts.longdown < 3 || counts.partition < 1 || counts.skew !== 1 || counts.longdown !== 1) {
      t.fail(`seed ${seed}: ${JSON.stringify(counts)}`)
      continue
    }
    for (const f of faults) {
      if (f.at < 0 || f.at + f.durationMs > short.durationMs) t.fail(`seed ${seed}: fault ${f.index} outside the phase`)
    }
    const skew = faults.find(f => f.kind === 'skew') as Fault
    t.ok(Math.abs(skew.offsetMs ?? 0) >= 120_000, 'the skew is minutes')
    for (const f of faults) {
      if (f === skew || !overlaps(f, skew)) continue
      const isolates = f.node === skew.node || f.kind === 'partition' || (f.kind === 'cut' && f.link?.includes(skew.node as string) === true)
      if (isolates) t.fail(`seed ${seed}: fault ${f.index} hides the skewed node`)
    }
    // At no start of a fault are more than maxDown nodes down or paused.
    const down = faults.filter(f => f.kind === 'kill' || f.kind === 'longdown' || f.kind === 'pause')
    for (const f of down) {
      const concurrent = down.filter(g => g.at <= f.at && f.at < g.at + g.durationMs)
      if (concurrent.length > short.maxDown) t.fail(`seed ${seed}: ${concurrent.length} nodes down at once`)
      const sameNode = down.filter(g => g !== f && g.node === f.node && overlaps(f, g))
      if (sameNode.length > 0) t.fail(`seed ${seed}: two faults on node ${f.node ?? '?'} at once`)
    }
    t.same(faults.map(f => f.index), faults.map((_, i) => i))
  }
  t.pass('200 seeds checked')
})

t.test('a long schedule holds hundreds of faults', async t => {
  const faults = generateSchedule({ ...short, durationMs: 600_000, faults: 300, minKills: 30, minPartitions: 10, skews: 5, longDowns: 3 })
  const counts = countByKind(faults)
  t.ok(faults.length >= 200, `${faults.length} faults`)
  t.ok(counts.partition >= 10 && counts.skew === 5 && counts.longdown === 3)
})

t.test('no room for a required fault is an error, not a silent short schedule', async t => {
  t.throws(() => generateSchedule({ ...short, durationMs: 10_000 }), /no room for a required 'longdown'/)
  t.same(generateSchedule({ ...short, nodes: ['a'], links: [], faults: 5, minKills: 0, minPartitions: 0, skews: 0, longDowns: 0 })
    .filter(f => f.kind === 'cut' || f.kind === 'partition' || f.kind === 'delay'), [])
})

t.test('every kind has a readable line', async t => {
  const lines = generateSchedule(short).map(describeFault)
  t.match(lines.join('\n'), /kill [a-e], restart after/)
  t.match(lines.join('\n'), /partition \[[a-e,]+\] \| \[[a-e,]+\]/)
  t.match(lines.join('\n'), /skew [a-e] by -?\d+ min/)
  t.match(describeFault({ index: 0, kind: 'delay', at: 1000, durationMs: 2000, link: ['a', 'b'], delayMs: 50 }), '#0 +1.0s delay a-b by 50ms for 2.0s')
  t.match(describeFault({ index: 1, kind: 'pause', at: 0, durationMs: 1000, node: 'c' }), 'pause c, continue after 1.0s')
  t.match(describeFault({ index: 2, kind: 'cut', at: 0, durationMs: 1000, link: ['a', 'c'] }), 'cut a-c, heal after 1.0s')
})

t.test('the PRNG is deterministic and stays in range', async t => {
  const x = new Prng(7)
  const y = new Prng(7)
  const xs = Array.from({ length: 100 }, () => x.int(1, 6))
  t.same(xs, Array.from({ length: 100 }, () => y.int(1, 6)))
  t.ok(xs.every(v => v >= 1 && v <= 6))
  t.same(new Set(xs).size, 6)
  t.throws(() => x.int(2, 1), TypeError)
  t.throws(() => x.pick([]), TypeError)
  t.throws(() => new Prng(0.5), TypeError)
  t.same(x.shuffle([1, 2, 3, 4]).sort(), [1, 2, 3, 4])
  const f1 = new Prng(9).fork()
  const f2 = new Prng(9).fork()
  t.equal(f1.next(), f2.next())
  t.equal(typeof x.chance(0.5), 'boolean')
})

t.test('wipes and restores: placed, one fault per node at a time, wipes count as down', async t => {
  for (let seed = 1; seed <= 100; seed++) {
    const faults = generateSchedule({ ...short, seed, wipes: 1, restores: 1 })
    const counts = countByKind(faults)
    if (counts.wipe !== 1 || counts.restore !== 1) t.fail(`seed ${seed}: ${JSON.stringify(counts)}`)
    const nodeFaults = faults.filter(f => f.node !== undefined)
    for (const f of faults.filter(f => f.kind === 'wipe' || f.kind === 'restore')) {
      if (nodeFaults.some(g => g !== f && g.node === f.node && overlaps(f, g))) t.fail(`seed ${seed}: another fault on ${f.node ?? '?'} during ${f.kind}`)
    }
    const down = faults.filter(f => ['kill', 'longdown', 'pause', 'wipe'].includes(f.kind))
    for (const f of down) {
      if (down.filter(g => g.at <= f.at && f.at < g.at + g.durationMs).length > short.maxDown) t.fail(`seed ${seed}: too many down`)
    }
  }
  const lines = generateSchedule({ ...short, wipes: 1, restores: 1 }).map(describeFault).join('\n')
  t.match(lines, /wipe [a-e], restart after/)
  t.match(lines, /restore [a-e]: copy its data, put the copy back after/)
})
