/**
 * Problem 5 of issue 9: a peer's entry whose message id is not well-formed UTF-8 is
 * refused exactly like the API refuses it: INVALID_FRAME (close 1007), nothing entered.
 */
import t from 'tap'
import { apiCall, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { batchWithRawMessage, rawPeerAs, SLOW_START } from './helpers.js'

t.test('an ill-formed UTF-8 id from a peer is INVALID_FRAME and enters nothing', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'] })
  await startDaemon(tt, mesh, 'a', SLOW_START)
  const api = mesh.nodes.a.api
  for (const bytes of [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x61, 0xff])]) {
    const peer = await rawPeerAs(tt, mesh, 'b', 'a')
    peer.send(batchWithRawMessage(bytes, 'b'))
    const closed = await peer.waitClosed()
    tt.equal(closed.code, 1007, `${bytes.toString('hex')}: closed as invalid data`)
    tt.equal(peer.errorCode(), 'INVALID_FRAME')
    tt.notOk(peer.frames.some(f => f.type === 'ack'), 'not acknowledged')
  }
  const winners = await apiCall(api, 'GET', '/v1/winners')
  tt.same(winners.body.winners, [], 'nothing was entered')
  const viaApi = await apiCall(api, 'POST', '/v1/changes', { body: '{"user":"alice","message":"\\ud800(","status":"read"}' })
  tt.equal(viaApi.status, 400, 'the API refuses an ill-formed id too')
})
