import t from 'tap'
import { check, compareChanges, MAX_DETAILS, type NodeDump } from './checker.js'
import type { AckedChange, UncertainChange } from './workload.js'
import type { LogEntry, MessageState, Status } from '../../src/types.js'

function state (user: string, message: string, status: Status, ts: number, origin: string): MessageState {
  return { user, message, status, ts, origin, originTime: Math.floor(ts / 1024), localTime: Math.floor(ts / 1024), seq: 1 }
}

function ack (user: string, message: string, status: Status, ts: number, origin: string): AckedChange {
  const entry: LogEntry = { user, message, status, ts, origin, seq: 1, originTime: 0, localTime: 0 }
  return { node: origin, entry }
}

/** A dump whose unread table is exactly what its winners imply. */
function dump (node: string, winners: MessageState[]): NodeDump {
  const unread = new Map<string, { messages: string[], count: number }>()
  for (const w of winners) {
    const t = unread.get(w.user) ?? { messages: [], count: 0 }
    if (w.status === 'unread') {
      t.messages.push(w.message)
      t.count++
    }
    unread.set(w.user, t)
  }
  return { node, winners, unread }
}

const winners = [state('u1', 'm1', 'read', 2000, 'b'), state('u1', 'm2', 'unread', 3000, 'a'), state('u2', 'm1', 'deleted', 1500, 'c')]
const acked = [
  ack('u1', 'm1', 'unread', 1000, 'a'), ack('u1', 'm1', 'read', 2000, 'b'),
  ack('u1', 'm2', 'unread', 3000, 'a'), ack('u2', 'm1', 'deleted', 1500, 'c'), ack('u2', 'm1', 'read', 1500, 'a')
]

t.test('precedence is (ts, origin)', async t => {
  t.equal(compareChanges({ ts: 1, origin: 'z' }, { ts: 2, origin: 'a' }), -1)
  t.equal(compareChanges({ ts: 2, origin: 'b' }, { ts: 2, origin: 'a' }), 1)
  t.equal(compareChanges({ ts: 2, origin: 'a' }, { ts: 2, origin: 'a' }), 0)
})

t.test('converged nodes holding the greatest acknowledged change pass', async t => {
  const result = check({ dumps: ['a', 'b', 'c'].map(n => dump(n, winners)), acked, uncertain: [] })
  t.same(result, { pairs: 3, divergent: 0, lost: 0, phantom: 0, unreadMismatch: 0, wonByUncertain: 0, details: [] })
})

t.test('a node holding an older winner is divergent and lost', async t => {
  const stale = winners.map(w => w.message === 'm1' && w.user === 'u1' ? state('u1', 'm1', 'unread', 1000, 'a') : w)
  const result = check({ dumps: [dump('a', winners), dump('b', stale)], acked, uncertain: [] })
  t.equal(result.divergent, 2, 'the pair and the unread table of u1 differ')
  t.equal(result.lost, 1)
  t.equal(result.unreadMismatch, 0, 'each node is consistent with itself')
  t.match(result.details.join('\n'), /lost \["u1","m1"\] on b: winner unread@1000\/a is older than acknowledged read@2000\/b/)
})

t.test('every node losing the same change is converged but lost', async t => {
  const stale = winners.filter(w => w.message !== 'm2')
  const result = check({ dumps: [dump('a', stale), dump('b', stale)], acked, uncertain: [] })
  t.equal(result.divergent, 0)
  t.equal(result.lost, 1)
  t.match(result.details[0], /winner none is older/)
})

t.test('a greater winner is fine only if a client sent it without an answer', async t => {
  const newer = [...winners.slice(1), state('u1', 'm1', 'deleted', 5000, 'c')]
  const inFlight: UncertainChange = { user: 'u1', message: 'm1', status: 'deleted', node: 'c', sentAt: 0, reason: 'timeout' }
  const ok = check({ dumps: [dump('a', newer), dump('b', newer)], acked, uncertain: [inFlight] })
  t.equal(ok.phantom, 0)
  t.equal(ok.wonByUncertain, 1)
  const wrongNode = check({ dumps: [dump('a', newer)], acked, uncertain: [{ ...inFlight, node: 'a' }] })
  t.equal(wrongNode.phantom, 1)
  const wrongStatus = check({ dumps: [dump('a', newer)], acked, uncertain: [{ ...inFlight, status: 'read' }] })
  t.equal(wrongStatus.phantom, 1)
  t.match(wrongStatus.details[0], /was never sent/)
  const nobody = check({ dumps: [dump('a', [state('u9', 'x', 'read', 1, 'a')])], acked: [], uncertain: [] })
  t.equal(nobody.phantom, 1)
  t.equal(nobody.lost, 0)
})

t.test('the acknowledged (ts, origin) with another status is a phantom', async t => {
  const flipped = winners.map(w => w.message === 'm2' ? { ...w, status: 'read' as const } : w)
  const result = check({ dumps: [dump('a', flipped)], acked, uncertain: [] })
  t.equal(result.phantom, 1)
  t.equal(result.lost, 0)
})

t.test('unread tables must match the winners and each other', async t => {
  const a = dump('a', winners)
  const b = dump('b', winners)
  b.unread.set('u1', { messages: ['m2'], count: 2 })
  const c = dump('c', winners)
  c.unread.set('u2', { messages: ['m1'], count: 1 })
  const result = check({ dumps: [a, b, c], acked, uncertain: [] })
  t.equal(result.unreadMismatch, 2, 'b miscounts u1, c lists a deleted message of u2')
  t.equal(result.divergent, 2, 'both tables differ from a')
  t.equal(result.lost, 0)
  const missing = dump('d', winners)
  missing.unread.delete('u1')
  t.equal(check({ dumps: [missing], acked: [], uncertain: [] }).unreadMismatch, 1)
})

t.test('details are bounded', async t => {
  const many = Array.from({ length: MAX_DETAILS * 2 }, (_, i) => state('u', `m${i}`, 'read', 1, 'x'))
  const result = check({ dumps: [dump('a', many)], acked: [], uncertain: [] })
  t.equal(result.phantom, MAX_DETAILS * 2)
  t.equal(result.details.length, MAX_DETAILS)
})

t.test('a change acknowledged before its node was restored may be lost; one after it may not', async t => {
  // u1/m3: acknowledged by d at t=10, then d's data was restored (t=20): gone, allowed.
  // u1/m4: acknowledged by d at t=30, after the restore: must survive.
  const before = { ...ack('u1', 'm3', 'read', 4000, 'd'), ackedAt: 10 }
  const after = { ...ack('u1', 'm4', 'read', 5000, 'd'), ackedAt: 30 }
  const older = state('u1', 'm3', 'unread', 500, 'c')
  const base = [...acked, ack('u1', 'm3', 'unread', 500, 'c')]
  const all = [...winners, older]
  const restores = [{ node: 'd', at: 20 }]
  const lostBefore = check({ dumps: ['a', 'b'].map(n => dump(n, all)), acked: [...base, before], uncertain: [], restores })
  t.equal(lostBefore.lost, 0, 'the older winner of u1/m3 is allowed')
  t.equal(lostBefore.phantom, 0)
  const kept = check({ dumps: ['a', 'b'].map(n => dump(n, [...winners, state('u1', 'm3', 'read', 4000, 'd')])), acked: [...base, before], uncertain: [], restores })
  t.same([kept.lost, kept.phantom, kept.wonByUncertain], [0, 0, 1], 'and so is the change itself')
  const lostAfter = check({ dumps: ['a', 'b'].map(n => dump(n, all)), acked: [...base, before, after], uncertain: [], restores })
  t.equal(lostAfter.lost, 1, 'u1/m4 is missing everywhere')
  t.match(lostAfter.details, [/lost \["u1","m4"\]/])
  t.equal(check({ dumps: ['a', 'b'].map(n => dump(n, all)), acked: [...base, before], uncertain: [] }).lost, 1, 'without the restore it counts')
})
