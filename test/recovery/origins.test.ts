/**
 * Problem 3 of issue 9: an entry's origin is not trusted blindly. An entry relayed
 * with another node's origin reaches that node too (no two honest nodes are left
 * disagreeing); an entry claiming this node's own origin that it does not hold is taken
 * back and relayed; an origin that was never a member of the mesh is refused; a retired
 * host's changes stay valid.
 */
import t from 'tap'
import { startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { batchFrame, change, rawPeerAs, winner, SLOW_START } from './helpers.js'

t.test('origins: relayed to their origin, own entries taken back, strangers refused, retired hosts kept', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  mesh.json.retired = ['old']
  await mesh.rewrite(mesh.json)
  await Promise.all(['a', 'b'].map(async id => await startDaemon(tt, mesh, id, SLOW_START)))
  const [apiA, apiB] = [mesh.nodes.a.api, mesh.nodes.b.api]

  // c (here a raw peer) sends a entries claiming origins b, a and the retired host.
  const c = await rawPeerAs(tt, mesh, 'c', 'a')
  const claimsB = change('alice', 'claims-b', 'b')
  const claimsA = change('alice', 'claims-a', 'a')
  const retired = change('alice', 'from-old', 'old')
  c.send(batchFrame(0, 3, [claimsB, claimsA, retired]))
  tt.equal((await c.next('ack')).seq, 3)
  for (const [api, node] of [[apiA, 'a'], [apiB, 'b']]) {
    for (const e of [claimsB, claimsA, retired]) {
      const w = await waitFor(async () => await winner(api, e.user, e.message), { timeoutMs: 15_000, what: `${e.message} on ${node}` })
      tt.match(w, { origin: e.origin, ts: e.ts }, `${node} holds ${e.message}`)
    }
  }

  // An origin that was never a member is refused: nothing of the batch enters.
  c.send(batchFrame(3, 5, [change('alice', 'ok-part', 'c'), change('alice', 'stranger', 'zed')]))
  const closed = await c.waitClosed()
  tt.equal(c.errorCode(), 'UNKNOWN_ORIGIN')
  tt.equal(closed.code, 1008)
  tt.equal(await winner(apiA, 'alice', 'stranger'), undefined)
  tt.equal(await winner(apiA, 'alice', 'ok-part'), undefined, 'the whole batch is refused')
})
