import t from 'tap'
import { apiCall, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'

t.test('SIGKILL right after acknowledged writes: a restart on the same directory has every one', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['solo'], settings: { durability: 'sync' } })
  const api = mesh.nodes.solo?.api ?? ''
  const first = await startDaemon(tt, mesh, 'solo')
  // Concurrent requests are group-committed; each answer still means durable.
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const changes = Array.from({ length: 25 }, (_, j) => ({ user: `user-${i % 4}`, message: `m-${i}-${j}`, status: j % 3 === 0 ? 'read' : 'unread' }))
    return await apiCall(api, 'POST', '/v1/changes', { body: { changes } })
  }))
  tt.ok(answers.every(a => a.status === 200))
  const acknowledged = answers.flatMap(a => a.body.entries as Array<{ user: string, message: string, status: string, ts: number }>)
  tt.equal(acknowledged.length, 500)
  const killed = await first.kill()
  tt.equal(killed.signal, 'SIGKILL')

  await startDaemon(tt, mesh, 'solo')
  const status = await apiCall(api, 'GET', '/v1/status')
  tt.equal(status.body.seq, 500)
  tt.ok(status.body.hlc >= Math.max(...acknowledged.map(e => e.ts)), 'the clock did not run backwards across the crash')
  for (const e of acknowledged.filter((_, i) => i % 37 === 0)) {
    const state = await apiCall(api, 'GET', `/v1/users/${encodeURIComponent(e.user)}/messages/${encodeURIComponent(e.message)}`)
    tt.match(state.body, { status: e.status, ts: e.ts })
  }
  const counts = await Promise.all([0, 1, 2, 3].map(async u => (await apiCall(api, 'GET', `/v1/users/user-${u}/unread/count`)).body.count as number))
  tt.equal(counts.reduce((a, b) => a + b, 0), acknowledged.filter(e => e.status === 'unread').length)
})
