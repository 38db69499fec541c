/**
 * Problem 4 of issue 9: a hold belongs to what caused it. A peer's entry stamped ahead
 * of this node's clock (beyond maxClockSkew) holds that peer; status says why, since
 * when, by how much and the earliest end; the hold ends when the entry is no longer
 * ahead, and a new session whose batches carry only current stamps is not held. A stamp
 * beyond MAX_TIMESTAMP_LEAD_MS is refused as invalid instead of held.
 */
import t from 'tap'
import { MAX_TIMESTAMP_LEAD_MS } from '../../src/limits.js'
import { apiCall, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { batchFrame, change, rawPeerAs, winner, SLOW_START } from './helpers.js'

const MAX_SKEW_MS = 5_000
const FAR_MS = 10 * 3600_000

async function peerStatus (api: string, id: string): Promise<Record<string, any>> {
  const status = await apiCall(api, 'GET', '/v1/status')
  return status.body.peers.find((p: { id: string }) => p.id === id)
}

t.test('a future stamp holds its session only, says why, and ends when it is no longer ahead', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'c'], settings: { heartbeat: '250ms', maxClockSkew: `${MAX_SKEW_MS}ms` } })
  await startDaemon(tt, mesh, 'a', SLOW_START)
  const api = mesh.nodes.a.api

  // Ten hours ahead (under MAX_TIMESTAMP_LEAD_MS): held at first sight, but only for this session.
  const first = await rawPeerAs(tt, mesh, 'c', 'a')
  const before = Date.now()
  first.send(batchFrame(0, 1, [change('alice', 'far', 'c', FAR_MS)]))
  const hold = await first.next('hold')
  tt.equal(hold.reason, 'FUTURE_TIMESTAMP')
  tt.ok(hold.offset > FAR_MS - 60_000, 'offset: how far ahead the stamp is')
  const held = await peerStatus(api, 'c')
  tt.match(held.hold, { reason: 'FUTURE_TIMESTAMP', since: Number, aheadMs: Number, until: Number })
  tt.ok(held.hold.since >= before - 1000, 'since: when the hold began')
  tt.ok(held.hold.aheadMs > FAR_MS - 60_000, `by how much: ${held.hold.aheadMs} ms ahead`)
  tt.ok(held.hold.until > Date.now() + FAR_MS - MAX_SKEW_MS - 60_000, 'earliest end: when the stamp is no longer ahead')
  tt.notOk(first.frames.some(f => f.type === 'ack'), 'the batch is not acknowledged')
  first.close()

  // A new session carrying only current stamps is not held.
  await waitFor(async () => (await peerStatus(api, 'c')).connected === false, { what: 'the session to end' })
  const second = await rawPeerAs(tt, mesh, 'c', 'a')
  second.send(batchFrame(0, 2, [change('alice', 'now', 'c')]))
  tt.equal((await second.next('ack')).seq, 2, 'acknowledged: the old hold did not outlive its session')
  tt.equal((await peerStatus(api, 'c')).hold, null, 'status: not held')
  tt.match(await winner(api, 'alice', 'now'), { origin: 'c' })
  tt.equal(await winner(api, 'alice', 'far'), undefined, 'the far entry never entered')

  // A few seconds beyond the tolerance: held, then resumed when the stamp is no longer ahead.
  const soon = change('alice', 'soon', 'c', MAX_SKEW_MS + 2_000)
  second.send(batchFrame(2, 3, [soon]))
  await second.next('hold')
  const until = (await peerStatus(api, 'c')).hold.until
  const resume = await second.next('resume', 15_000)
  tt.ok(Date.now() >= until - 50, 'resumed at the earliest end, not before')
  second.send(batchFrame(2, 3, [soon], resume.round))
  // The entry's stamp is now within the tolerance: it enters.
  tt.equal((await second.next('ack', 10_000)).seq, 3)
  tt.match(await winner(api, 'alice', 'soon'), { origin: 'c' })
  tt.equal((await peerStatus(api, 'c')).hold, null)
})

t.test('a stamp beyond MAX_TIMESTAMP_LEAD_MS is invalid, not held', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'c'], settings: { maxClockSkew: `${MAX_SKEW_MS}ms` } })
  await startDaemon(tt, mesh, 'a', SLOW_START)
  const peer = await rawPeerAs(tt, mesh, 'c', 'a')
  peer.send(batchFrame(0, 1, [change('alice', 'absurd', 'c', MAX_TIMESTAMP_LEAD_MS + 60_000)]))
  const closed = await peer.waitClosed()
  tt.equal(peer.errorCode(), 'INVALID_FRAME')
  tt.equal(closed.code, 1007)
  tt.equal(await winner(mesh.nodes.a.api, 'alice', 'absurd'), undefined)
})
