import t from 'tap'
import { apiCall, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

t.test('hub and spoke from the mesh file: a change made on one spoke reaches the other through the hub', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, {
    nodes: ['hub', 's1', 's2'],
    // The s2 link names the hub's URL explicitly, as a link through a proxy or VPN would.
    links: nodes => [['hub', 's1'], { nodes: ['hub', 's2'], urls: { hub: nodes.hub?.peerUrl } }]
  })
  await Promise.all(mesh.ids.map(async id => await startDaemon(tt, mesh, id)))
  const s1 = await apiCall(mesh.nodes.s1?.api ?? '', 'GET', '/v1/status')
  tt.same(s1.body.peers.map((p: { id: string }) => p.id), ['hub'], 'a spoke peers with the hub only')
  const hub = await apiCall(mesh.nodes.hub?.api ?? '', 'GET', '/v1/status')
  tt.same(hub.body.peers.map((p: { id: string }) => p.id).sort(), ['s1', 's2'])

  const marked = await apiCall(mesh.nodes.s1?.api ?? '', 'POST', '/v1/changes', { body: { changes: [{ user: 'bob', message: 'x1', status: 'unread' }, { user: 'bob', message: 'x2', status: 'unread' }] } })
  tt.equal(marked.status, 200)
  await waitFor(async () => (await apiCall(mesh.nodes.s2?.api ?? '', 'GET', '/v1/users/bob/unread/count')).body.count === 2,
    { timeoutMs: 15_000, what: 'the change to be relayed to s2' })
  const seen = await apiCall(mesh.nodes.s2?.api ?? '', 'GET', '/v1/users/bob/messages/x2')
  tt.match(seen.body, { status: 'unread', origin: 's1' })
})
