import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, startDaemon, writeMesh, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

t.test('secret rotation from the mesh file: a node on the new secret that accepts the old one links with a node still on the old one', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'], secret: 'the-old-secret-of-this-cluster' })
  // Mid-rotation, a's host has the next mesh file: new secret, old one still accepted.
  await writeFile(join(dir, 'new.secret'), 'the-new-secret-of-this-cluster\n')
  const next: TestMesh = { ...mesh, file: join(dir, 'mesh-next.json') }
  await writeFile(next.file, JSON.stringify({ ...mesh.json, secret: { file: 'new.secret' }, acceptSecrets: [{ file: 'cluster.secret' }] }))
  const a = await startDaemon(tt, next, 'a')
  await startDaemon(tt, mesh, 'b')
  for (const id of ['a', 'b']) {
    await waitFor(async () => (await apiCall(mesh.nodes[id]?.api ?? '', 'GET', '/v1/status')).body.peers[0]?.connected === true,
      { timeoutMs: 15_000, what: `${id} to connect across the rotation` })
  }
  await apiCall(mesh.nodes.b?.api ?? '', 'POST', '/v1/changes', { body: { user: 'u', message: 'm', status: 'unread' } })
  await waitFor(async () => (await apiCall(mesh.nodes.a?.api ?? '', 'GET', '/v1/users/u/unread/count')).body.count === 1, { timeoutMs: 15_000 })
  tt.notOk(a.logs.some(l => l.event === 'peer-rejected'), 'no session was refused')
})
