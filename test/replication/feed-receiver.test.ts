/**
 * The receiving half of the feed, without sockets: a real store in a temp dir, and a
 * channel that records the acks, holds and resumes that would have gone on the wire.
 */
import t from 'tap'
import { packTimestamp } from '../../src/hlc.js'
import { MAX_WINDOW } from '../../src/limits.js'
import type { BatchFrame, StateFrame } from '../../src/protocol/index.js'
import type { ReplicatorEvents } from '../../src/replication/api.js'
import { FeedReceiver } from '../../src/replication/feed-receiver.js'
import { RecentChanges } from '../../src/replication/recent-changes.js'
import type { Store } from '../../src/store/index.js'
import type { Change } from '../../src/types.js'
import { openStore } from '../store/util.js'
import { RecordingChannel } from './recording-channel.js'
import type { Teardown as T } from '../helpers/teardown.js'

type Event = [keyof ReplicatorEvents, unknown]

async function setup (t: T, maxClockSkewMs = 60_000): Promise<{ store: Store, receiver: FeedReceiver, ch: RecordingChannel, events: Event[], future: number[] }> {
  const store = await openStore(t, { nodeId: 'a', maxClockSkewMs })
  const events: Event[] = []
  const future: number[] = []
  const receiver = new FeedReceiver({
    store,
    peer: 'b',
    recent: new RecentChanges(1_000),
    emit: (event, ...args) => { events.push([event, args[0]]) },
    onFuture: maxTs => { future.push(maxTs) }
  })
  const ch = new RecordingChannel()
  receiver.attach(ch)
  t.teardown(async () => { await receiver.idle() })
  return { store, receiver, ch, events, future }
}

let counter = 0
function change (ts = packTimestamp(Date.now())): Change {
  return { user: 'u', message: `m${counter++}`, status: 'read', origin: 'b', ts }
}

function batch (prev: number, seq: number, round = 0, entries: Change[] = [change()]): BatchFrame {
  return { type: 'batch', prev, seq, round, entries }
}

/** A hold for a peer whose clock is 90 s ahead. */
const SKEW_HOLD = { reason: 'CLOCK_SKEW' as const, since: 0, aheadMs: 90_000, until: null }

t.test('batches are applied and acknowledged in order', async t => {
  const { store, receiver, ch, events } = await setup(t)
  receiver.onData(batch(0, 1), 100)
  receiver.onData(batch(1, 2), 100)
  receiver.onData(batch(2, 3), 100)
  await receiver.idle()
  t.same(ch.sent('ack').map(a => a.seq), [1, 2, 3])
  t.equal(store.lastSeq, 3, 'three entries entered')
  t.same(receiver.counts, { batchesReceived: 3, entriesEntered: 3, entriesStale: 0, entriesDuplicate: 0 })
  t.equal(events.filter(([name]) => name === 'batch-applied').length, 3)
})

t.test('a batch that does not continue the last one, or carries another round, is dropped unapplied', async t => {
  const { store, receiver, ch } = await setup(t)
  receiver.onData(batch(0, 1), 100)
  receiver.onData(batch(5, 6), 100) // a gap
  receiver.onData(batch(1, 2, 1), 100) // a round we never started
  await receiver.idle()
  t.same(ch.sent('ack').map(a => a.seq), [1])
  t.equal(store.lastSeq, 1)
  t.equal(ch.failure, undefined, 'dropping is no error: the sender resends the range')
})

t.test('hold and resume: nothing is applied while holding; the resume starts a round from the last ack', async t => {
  const { store, receiver, ch } = await setup(t)
  receiver.onData(batch(0, 1), 100)
  await receiver.idle()
  receiver.setHold(SKEW_HOLD)
  t.same(ch.frames.at(-1), { type: 'hold', reason: 'CLOCK_SKEW', offset: 90_000 })
  receiver.setHold(SKEW_HOLD)
  t.equal(ch.sent('hold').length, 1, 'a second hold is not sent')
  receiver.onData(batch(1, 2), 100)
  await receiver.idle()
  t.equal(store.lastSeq, 1, 'refused while holding')
  receiver.setHold(null)
  t.same(ch.frames.at(-1), { type: 'resume', round: 1 })
  receiver.onData(batch(1, 2, 0), 100)
  receiver.onData(batch(1, 2, 1), 100)
  await receiver.idle()
  t.same(ch.sent('ack').map(a => a.seq), [1, 2], 'only the batch of the new round, continuing from the last ack')
  t.equal(store.lastSeq, 2)
})

t.test('a frame whose apply finishes after a hold is not acknowledged', async t => {
  const { receiver, ch } = await setup(t)
  receiver.onData(batch(0, 1), 100)
  receiver.setHold(SKEW_HOLD) // before the apply settled
  await receiver.idle()
  t.same(ch.sent('ack'), [], 'applied, but the ack would cover a range the sender now resends')
})

t.test(`more than MAX_WINDOW (${MAX_WINDOW}) frames waiting to apply closes the session`, async t => {
  const { receiver, ch } = await setup(t)
  for (let i = 0; i <= MAX_WINDOW; i++) receiver.onData(batch(i, i + 1), 100)
  t.equal(ch.failure?.code, 'WINDOW_EXCEEDED')
  await receiver.idle()
})

t.test('timestamps from the future are not acknowledged; the link is told how far ahead', async t => {
  const { store, receiver, ch, future } = await setup(t, 1_000)
  const ahead = packTimestamp(Date.now() + 3_600_000)
  receiver.onData(batch(0, 1, 0, [change(ahead)]), 100)
  await receiver.idle()
  t.same(future, [ahead])
  t.same(ch.sent('ack'), [])
  t.equal(store.lastSeq, 0)
  t.equal(ch.failure, undefined, 'not a protocol error')
})

t.test('a change this node already has is counted as a duplicate without reaching the store', async t => {
  const { store, receiver, ch } = await setup(t)
  const c = change()
  receiver.onData(batch(0, 1, 0, [c]), 100)
  receiver.onData(batch(1, 2, 0, [c]), 100) // the same change, from a second path
  await receiver.idle()
  t.same(ch.sent('ack').map(a => a.seq), [1, 2])
  t.equal(store.lastSeq, 1)
  t.equal(receiver.counts.entriesDuplicate, 1)
})

t.test('state chunks: in order from 1, acknowledged each; the last one sets where batches continue', async t => {
  const { store, receiver, ch, events } = await setup(t)
  const chunk = (n: number, done: boolean, round = 0): StateFrame => ({ type: 'state', chunk: n, round, seq: 40, done, entries: [change()] })
  receiver.onData(chunk(1, false), 100)
  receiver.onData(chunk(3, false), 100) // skips 2: dropped
  receiver.onData(chunk(2, true), 100)
  receiver.onData(batch(40, 41), 100)
  await receiver.idle()
  t.same(ch.sent('state-ack').map(a => a.chunk), [1, 2])
  t.same(ch.sent('ack').map(a => a.seq), [41])
  t.equal(store.lastSeq, 3)
  t.same(events.filter(([name]) => name === 'state-transfer').map(([, e]) => (e as { phase: string }).phase), ['start', 'end'])
})

t.test('a detached receiver acknowledges nothing more', async t => {
  const { receiver, ch } = await setup(t)
  receiver.onData(batch(0, 1), 100)
  receiver.detach()
  await receiver.idle()
  receiver.onData(batch(1, 2), 100)
  await receiver.idle()
  t.same(ch.sent('ack'), [])
})
