/**
 * The peer link, without sockets: its clock hold, the routing of a session's frames to
 * the feed's halves, session attach/detach and the redial after a failed dial. A real
 * store in a temp dir; sessions are recorders.
 */
import t from 'tap'
import type { ReplicatorEvents } from '../../src/replication/api.js'
import { Backoff } from '../../src/replication/backoff.js'
import { PeerLink } from '../../src/replication/peer-link.js'
import { RecentChanges } from '../../src/replication/recent-changes.js'
import { waitFor } from '../helpers/wait.js'
import { openStore } from '../store/util.js'
import { RecordingSession } from './recording-channel.js'
import type { Teardown as T } from '../helpers/teardown.js'

type Event = [keyof ReplicatorEvents, Record<string, unknown>]

const MAX_SKEW_MS = 1_000

async function setup (t: T, dial: (url: string) => void = () => {}): Promise<{ link: PeerLink, events: Event[] }> {
  const store = await openStore(t, { nodeId: 'a' })
  await store.mark([{ user: 'u', message: 'm', status: 'read' }])
  const events: Event[] = []
  const link = new PeerLink({
    store,
    peer: { id: 'b', url: 'ws://127.0.0.1:1' },
    batchEntries: 10,
    batchBytes: 64 * 1024,
    window: 2,
    maxClockSkewMs: MAX_SKEW_MS,
    healthyAfterMs: 1_000,
    recent: new RecentChanges(100),
    emit: (event, ...args) => { events.push([event, args[0] as Record<string, unknown>]) },
    dial,
    backoff: new Backoff(5, 10, () => 0)
  })
  await link.load()
  t.teardown(async () => { link.stop(); await link.idle() })
  return { link, events }
}

t.test('a peer ahead beyond the limit is held at attach and resumed once its clock is sane', async t => {
  const { link, events } = await setup(t)
  const s = new RecordingSession()
  link.attach(s, { offsetMs: 5_000, rttMs: 1 })
  t.same(s.sent('hold'), [{ type: 'hold', reason: 'CLOCK_SKEW', offset: 5_000 }])
  t.match(link.status(), { connected: true, skewed: true, holding: true, clockOffsetMs: 5_000 })
  link.onSample({ offsetMs: 10, rttMs: 1 })
  t.same(s.sent('resume'), [{ type: 'resume', round: 1 }])
  t.match(link.status(), { skewed: false, holding: false })
  t.same(events.map(([name]) => name), ['peer-skewed', 'peer-held', 'peer-clock-ok'])
})

t.test('a peer behind beyond the limit is reported skewed but not held', async t => {
  const { link } = await setup(t)
  const s = new RecordingSession()
  link.attach(s, { offsetMs: -5_000, rttMs: 1 })
  t.same(s.sent('hold'), [])
  t.match(link.status(), { skewed: true, holding: false })
})

t.test('a step of our own clock shifts the offset the other way', async t => {
  const { link } = await setup(t)
  link.attach(new RecordingSession(), { offsetMs: 500, rttMs: 1 })
  link.shiftOffset(2_000)
  t.equal(link.offsetMs, -1_500)
  t.match(link.status(), { skewed: true, holding: false })
})

t.test('the first sample after a step of our own clock is discarded: its ping may have left before the step', async t => {
  const { link } = await setup(t)
  link.attach(new RecordingSession(), { offsetMs: 0, rttMs: 1 })
  link.shiftOffset(-300_000)
  t.equal(link.offsetMs, 300_000)
  link.onSample({ offsetMs: 150_000, rttMs: 300_000 })
  t.equal(link.offsetMs, 300_000, 'the straddling sample (half the step) is not taken')
  link.onSample({ offsetMs: 300_010, rttMs: 1 })
  t.equal(link.offsetMs, 300_010, 'the next one is')
})

t.test('frames of the attached session reach the feed; a frame no half expects closes it', async t => {
  const { link } = await setup(t)
  const s = new RecordingSession()
  link.attach(s, { offsetMs: 0, rttMs: 1 })
  await waitFor(() => s.sent('batch').length === 1, { what: 'the first batch' })
  s.deliver({ type: 'hold', reason: 'CLOCK_SKEW', offset: 1 })
  t.match(link.status(), { held: true })
  s.deliver({ type: 'resume', round: 1 })
  t.match(link.status(), { held: false })
  s.deliver({ type: 'ping', t0: 1 })
  t.equal(s.failure?.code, 'UNEXPECTED_FRAME')
  t.match(s.failure?.message, /ping is not expected here/)
})

t.test('frames of a replaced session are ignored; its bytes stay counted', async t => {
  const { link } = await setup(t)
  const old = new RecordingSession()
  link.attach(old, { offsetMs: 0, rttMs: 1 })
  old.bytesSent = 300
  link.detach(old)
  const current = new RecordingSession()
  link.attach(current, { offsetMs: 0, rttMs: 1 })
  current.bytesSent = 20
  old.deliver({ type: 'ack', seq: 99 })
  t.equal(old.failure, undefined, 'not routed: the link no longer listens to it')
  t.equal(current.failure, undefined)
  t.equal(link.status().bytesSent, 320)
})

t.test('a closed session is reported, remembered as the last error, and redialed', async t => {
  const dials: string[] = []
  const { link, events } = await setup(t, url => { dials.push(url) })
  link.start()
  t.same(dials, ['ws://127.0.0.1:1'])
  const s = new RecordingSession()
  link.attach(s, { offsetMs: 0, rttMs: 1 })
  s.closeCode = 'HEARTBEAT_TIMEOUT'
  s.closeReason = 'nothing heard'
  link.onSessionClosed(s)
  link.redialAfter(s)
  t.match(link.status(), { connected: false, lastError: { code: 'HEARTBEAT_TIMEOUT', reason: 'nothing heard' } })
  t.same(events.at(-1), ['peer-disconnected', { peer: 'b', code: 'HEARTBEAT_TIMEOUT', reason: 'nothing heard' }])
  await waitFor(() => dials.length === 2, { what: 'the redial' })
})

t.test('a duplicate-session close is no error of the peer', async t => {
  const { link } = await setup(t)
  const s = new RecordingSession()
  link.attach(s, { offsetMs: 0, rttMs: 1 })
  s.closeCode = 'DUPLICATE_SESSION'
  link.onSessionClosed(s)
  t.equal(link.status().lastError, null)
})

t.test('an unusable URL is reported and retried after the backoff; stop() ends the retries', async t => {
  let dials = 0
  const { link, events } = await setup(t, () => { dials++; throw new TypeError('Invalid URL') })
  link.start()
  t.same(events[0], ['peer-rejected', { peer: 'b', remoteAddress: 'ws://127.0.0.1:1', code: 'INVALID_URL', reason: 'Invalid URL' }])
  await waitFor(() => dials >= 3, { what: 'two retries' })
  link.stop()
  const after = dials
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(dials, after, 'no dial after stop()')
})
