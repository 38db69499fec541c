/**
 * The sending half of the feed, without sockets: a real store in a temp dir, and a
 * channel that records what would have gone on the wire.
 */
import t from 'tap'
import { MAX_BUFFERED_BYTES } from '../../src/limits.js'
import type { ReplicatorEvents } from '../../src/replication/api.js'
import { FeedSender } from '../../src/replication/feed-sender.js'
import type { Store } from '../../src/store/index.js'
import { waitFor } from '../helpers/wait.js'
import { openStore } from '../store/util.js'
import { RecordingChannel } from './recording-channel.js'
import type { Teardown as T } from '../helpers/teardown.js'

type Event = [keyof ReplicatorEvents, unknown]

async function setup (t: T, { entries = 10, window = 3, batchEntries = 1 } = {}): Promise<{ store: Store, sender: FeedSender, ch: RecordingChannel, events: Event[] }> {
  const store = await openStore(t, { nodeId: 'a' })
  for (let i = 0; i < entries; i++) await store.mark([{ user: 'u', message: `m${i}`, status: 'read' }])
  const events: Event[] = []
  const sender = new FeedSender({ store, peer: 'b', batchEntries, batchBytes: 64 * 1024, window, emit: (event, ...args) => { events.push([event, args[0]]) } })
  await sender.load()
  const ch = new RecordingChannel()
  sender.attach(ch)
  t.teardown(async () => { sender.detach(); await sender.idle() })
  return { store, sender, ch, events }
}

/** Waits until `count` frames were sent and the pump found nothing more to do. */
async function sent (ch: RecordingChannel, count: number): Promise<void> {
  await waitFor(() => ch.frames.length >= count, { what: `${count} frames` })
  await new Promise(resolve => setImmediate(resolve))
}

/** Starts the pump and waits for its first `count` frames. */
async function pumped (sender: FeedSender, ch: RecordingChannel, count: number): Promise<void> {
  sender.pump()
  await sent(ch, count)
}

t.test('a full window stops the pump; each ack lets exactly one more batch go', async t => {
  const { sender, ch } = await setup(t)
  await pumped(sender, ch, 3)
  t.same(ch.sent('batch').map(b => [b.prev, b.seq, b.round]), [[0, 1, 0], [1, 2, 0], [2, 3, 0]], 'three batches, each continuing the last')
  sender.onAck(1)
  await sent(ch, 4)
  t.equal(ch.frames.length, 4, 'one more, no further')
  t.same(ch.sent('batch')[3], { type: 'batch', prev: 3, seq: 4, round: 0, entries: ch.sent('batch')[3].entries })
  t.equal(sender.cursor, 1)
  t.equal(sender.counts.batchesSent, 4)
})

t.test('an ack for a seq never sent closes the session; a late ack is ignored', async t => {
  const { sender, ch } = await setup(t)
  await pumped(sender, ch, 3)
  sender.onAck(2)
  await sent(ch, 5)
  sender.onAck(1) // late: from before a rewind
  t.equal(ch.failure, undefined, 'an ack at or below the cursor is no error')
  t.equal(sender.cursor, 2)
  sender.onAck(99)
  t.equal(ch.failure?.code, 'UNEXPECTED_FRAME')
  t.match(ch.failure?.message, /ack of 99/)
  t.equal(sender.cursor, 2, 'the bad ack moved nothing')
})

t.test('a hold stops sending; the resume rewinds to the cursor and stamps its round', async t => {
  const { sender, ch } = await setup(t)
  await pumped(sender, ch, 3)
  sender.onHold()
  t.ok(sender.held)
  sender.onAck(1) // the peer applied batch 1 before it held us
  await new Promise(resolve => setTimeout(resolve, 20))
  t.equal(ch.frames.length, 3, 'nothing sent while held, even after an ack')
  sender.onResume(1)
  await sent(ch, 6)
  t.same(ch.sent('batch').slice(3).map(b => [b.prev, b.seq, b.round]), [[1, 2, 1], [2, 3, 1], [3, 4, 1]], 'resent from the cursor, in the new round')
  t.notOk(sender.held)
})

t.test('an ack of a batch sent before a hold, arriving after the resume, rewinds the window', async t => {
  const { store, sender, ch } = await setup(t, { entries: 3, batchEntries: 2 })
  await pumped(sender, ch, 2)
  t.same(ch.sent('batch').map(b => [b.prev, b.seq]), [[0, 2], [2, 3]])
  sender.onHold()
  for (let i = 3; i < 6; i++) await store.mark([{ user: 'u', message: `m${i}`, status: 'read' }])
  sender.onResume(1)
  await sent(ch, 5)
  t.same(ch.sent('batch').slice(2).map(b => [b.prev, b.seq]), [[0, 2], [2, 4], [4, 6]], 'the resent range is cut differently now')
  sender.onAck(3) // batch 2→3 of round 0, applied late: no batch of the new window ends at 3
  await sent(ch, 7)
  t.same(ch.sent('batch').slice(5).map(b => [b.prev, b.seq]), [[3, 5], [5, 6]], 'the window restarts after the acknowledged seq')
  t.equal(sender.cursor, 3)
  t.equal(ch.failure, undefined)
})

t.test('a full socket buffer pauses the pump until a write drains it', async t => {
  const { sender, ch } = await setup(t, { window: 8 })
  ch.bufferedAmount = MAX_BUFFERED_BYTES + 1
  sender.pump()
  await new Promise(resolve => setTimeout(resolve, 20))
  t.equal(ch.frames.length, 0, 'nothing queued on a full buffer')
  ch.bufferedAmount = 0
  await pumped(sender, ch, 8)
  t.equal(ch.frames.length, 8, 'the window fills once it drained')
})

t.test('the peer\'s own entries are not sent back, but the batch still covers their seqs', async t => {
  const { store, sender, ch } = await setup(t, { entries: 0, batchEntries: 10 })
  await store.applyRemote([{ user: 'u', message: 'from-b', status: 'read', origin: 'b', ts: store.clock.now() }], { from: 'b' })
  await store.mark([{ user: 'u', message: 'mine', status: 'read' }])
  await pumped(sender, ch, 1)
  const [batch] = ch.sent('batch')
  t.equal(batch.seq, 2)
  t.same(batch.entries.map(e => e.message), ['mine'])
})

t.test('acks are persisted as the cursor', async t => {
  const { store, sender, ch } = await setup(t)
  await pumped(sender, ch, 3)
  sender.onAck(3)
  await waitFor(async () => await store.getCursor('b') === 3, { what: 'cursor 3 on disk' })
  t.ok(sender.lastAckAt !== null)
})

/** A store whose feed was purged: a peer at cursor 0 needs a state transfer. */
async function purgedSetup (t: T): Promise<Awaited<ReturnType<typeof setup>>> {
  const s = await setup(t, { entries: 5, window: 1, batchEntries: 2 })
  s.sender.detach()
  await s.store.purge(Date.now() + 60_000)
  s.sender.attach(s.ch)
  return s
}

t.test('a state transfer sends the winners in chunks, one at a time in a window of one, and ends at lastSeq', async t => {
  const { store, sender, ch, events } = await purgedSetup(t)
  sender.pump()
  for (let chunk = 1; chunk <= 3; chunk++) {
    await sent(ch, chunk)
    const frame = ch.sent('state')[chunk - 1]
    t.equal(frame.chunk, chunk)
    t.equal(frame.seq, store.lastSeq)
    sender.onStateAck(chunk)
  }
  const chunks = ch.sent('state')
  t.same(chunks.map(c => c.entries.length), [2, 2, 1])
  t.same(chunks.map(c => c.done), [false, false, true])
  t.equal(sender.cursor, store.lastSeq, 'the finished transfer acknowledged everything')
  t.same(events.map(([name, e]) => [name, (e as { phase: string }).phase]), [['state-transfer', 'start'], ['state-transfer', 'end']])
})

t.test('a hold in the middle of a state transfer aborts it; the resume starts a new one from chunk 1', async t => {
  const { sender, ch } = await purgedSetup(t)
  await pumped(sender, ch, 1)
  sender.onStateAck(1)
  await sent(ch, 2)
  sender.onHold()
  sender.onStateAck(2) // the transfer it belonged to is gone
  t.equal(ch.failure?.code, 'UNEXPECTED_FRAME', 'a state-ack after the transfer was dropped is refused')
  const fresh = new RecordingChannel()
  sender.attach(fresh)
  sender.onHold()
  sender.onResume(1)
  await sent(fresh, 1)
  t.same(fresh.sent('state').map(c => [c.chunk, c.round]), [[1, 1]], 'a new transfer, chunk 1, in the resume\'s round')
  t.equal(sender.counts.stateTransfers, 2, 'one transfer before the hold, a new one after the resume')
  t.equal(sender.cursor, 0, 'an unfinished transfer moves no cursor')
})

t.test('an ack during a state transfer is a protocol error', async t => {
  const { sender, ch } = await purgedSetup(t)
  await pumped(sender, ch, 1)
  sender.onAck(1)
  t.equal(ch.failure?.code, 'UNEXPECTED_FRAME')
})

t.test('the peer\'s own changes that came from another node go back to it (docs/protocol.md §5a)', async t => {
  const { store, sender, ch } = await setup(t, { entries: 0, batchEntries: 10 })
  await store.applyRemote([{ user: 'u', message: 'b-via-c', status: 'read', origin: 'b', ts: store.clock.now() }], { from: 'c' })
  await pumped(sender, ch, 1)
  t.same(ch.sent('batch')[0].entries.map(e => e.message), ['b-via-c'])
})
