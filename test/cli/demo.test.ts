import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, startDemo, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

t.test('demo starts three nodes, a change replicates, Ctrl-C stops them cleanly', async tt => {
  const dir = await tempDir(tt)
  // The demo uses an existing mesh file in its directory: give it one with free ports.
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const demo = startDemo(tt, dir)
  await waitFor(() => demo.out().includes('Ctrl-C stops all nodes.'), { timeoutMs: 40_000, what: `the demo to be up\n${demo.out()}\n${demo.err()}` })
  for (const id of mesh.ids) tt.match(demo.out(), `node ${id}: API ${mesh.nodes[id]?.api ?? ''}`)
  tt.match(demo.out(), `mark alice msg-1 msg-2 --status unread --api ${mesh.nodes.a?.api ?? ''}`)
  tt.match(demo.out(), `unread alice --api ${mesh.nodes.c?.api ?? ''}`)
  tt.equal(Object.keys(demo.pids()).length, 3)

  await apiCall(mesh.nodes.a?.api ?? '', 'POST', '/v1/changes', { body: { changes: [{ user: 'alice', message: 'msg-1', status: 'unread' }] } })
  await waitFor(async () => (await apiCall(mesh.nodes.c?.api ?? '', 'GET', '/v1/users/alice/unread/count')).body.count === 1, { timeoutMs: 15_000 })

  demo.child.kill('SIGINT')
  tt.equal(await demo.exited, 0, demo.err())
  tt.match(demo.out(), /all nodes stopped cleanly/)
  for (const pid of Object.values(demo.pids())) tt.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `node pid ${pid} is gone`)
  const log = await readFile(join(dir, 'a.log'), 'utf8')
  tt.match(log, /"event":"ready"/)
  tt.match(log, /"event":"stopped"/)
})
