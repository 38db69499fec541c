import t from 'tap'
import { apiCall, runCli, startDaemon, writeMesh, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

/** `marksync mark-all` on a real two-node mesh: one call, every (older) unread message, replicated. */
const TOKEN = 'mark-all-token-0123456789'

async function unreadCount (mesh: TestMesh, id: string, user: string): Promise<number> {
  return (await apiCall(mesh.nodes[id]?.api as string, 'GET', `/v1/users/${user}/unread/count`, { token: TOKEN })).body.count
}

async function seq (mesh: TestMesh, id: string): Promise<number> {
  return (await apiCall(mesh.nodes[id]?.api as string, 'GET', '/v1/status', { token: TOKEN })).body.seq
}

async function post (mesh: TestMesh, id: string, changes: unknown[]): Promise<any> {
  const res = await apiCall(mesh.nodes[id]?.api as string, 'POST', '/v1/changes', { token: TOKEN, body: { changes } })
  if (res.status !== 200) throw new Error(`POST /v1/changes: ${res.text}`)
  return res.body
}

t.test('mark-all marks every unread message older than --before, then the rest, on every node', async t => {
  const mesh = await writeMesh(await tempDir(t), { nodes: ['a', 'b'], apiToken: TOKEN })
  await Promise.all(mesh.ids.map(async id => await startDaemon(t, mesh, id, { readyTimeoutMs: 60_000 })))
  const old = Array.from({ length: 1_200 }, (_, i) => ({ user: 'alice', message: `old-${i}`, status: 'unread' }))
  const entered = [...(await post(mesh, 'a', old.slice(0, 1_000))).entries, ...(await post(mesh, 'a', old.slice(1_000))).entries]
  await post(mesh, 'a', [{ user: 'alice', message: 'seen', status: 'read' }, { user: 'bob', message: 'b1', status: 'unread' }])
  const cutoff = Math.max(...entered.map((e: any) => e.originTime)) + 1
  await waitFor(() => Date.now() > cutoff + 1, { what: 'the clock passes the cutoff' })
  await post(mesh, 'b', [1, 2, 3, 4, 5].map(i => ({ user: 'alice', message: `new-${i}`, status: 'unread' })))
  await waitFor(async () => await unreadCount(mesh, 'a', 'alice') === 1_205 && await unreadCount(mesh, 'b', 'alice') === 1_205, { what: 'both nodes see 1205 unread', timeoutMs: 60_000 })

  const api = ['--api', mesh.nodes.a?.api as string, '--token', TOKEN]
  const bad = await runCli(['mark-all', 'alice', '--status', 'read', '--before', 'last tuesday', ...api])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /INVALID_TIME/)
  const unread = await runCli(['mark-all', 'alice', '--status', 'unread', ...api])
  t.equal(unread.code, 2, 'unread is not a status mark-all sets')
  const seqBefore = await seq(mesh, 'a')

  const first = await runCli(['mark-all', 'alice', '--status', 'read', '--before', new Date(cutoff).toISOString(), ...api])
  t.equal(first.code, 0, first.stderr)
  t.equal(first.stdout.trim(), '1200 messages of alice marked read; 5 newer unread left as they were')
  t.equal(await seq(mesh, 'a'), seqBefore + 1_200, 'one entry per marked message')
  t.equal(await unreadCount(mesh, 'a', 'alice'), 5)
  await waitFor(async () => await unreadCount(mesh, 'b', 'alice') === 5, { what: 'b sees the marks', timeoutMs: 60_000 })
  const replicated = (await apiCall(mesh.nodes.b?.api as string, 'GET', '/v1/users/alice/messages/old-1199', { token: TOKEN })).body
  t.match(replicated, { status: 'read', origin: 'a' })

  const rest = await runCli(['mark-all', 'alice', '-s', 'read', '--json', ...api])
  t.same(JSON.parse(rest.stdout), { user: 'alice', status: 'read', marked: 5, skipped: 0 })
  await waitFor(async () => await unreadCount(mesh, 'b', 'alice') === 0, { what: 'b has no unread left for alice', timeoutMs: 60_000 })
  t.equal(await unreadCount(mesh, 'a', 'bob'), 1, 'another user is untouched')
  const none = await runCli(['mark-all', 'alice', '-s', 'read', ...api])
  t.equal(none.stdout.trim(), '0 messages of alice marked read')
})
