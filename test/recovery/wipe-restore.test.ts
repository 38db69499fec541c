/**
 * Problems 1 and 2 of issue 9, with real `marksync` processes on a three-node full mesh:
 * a node whose data directory is wiped gets the whole state back (its own changes
 * included), and a node restored from an older copy takes back what it made after the
 * copy; in both cases what it makes afterwards reaches the others and wins over its own
 * older changes.
 */
import t from 'tap'
import { cp, rm } from 'node:fs/promises'
import { apiCall, startDaemon, writeMesh, type DaemonProcess, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { SLOW_START, markMany, waitUnread, winner } from './helpers.js'

async function startAll (tt: Parameters<typeof startDaemon>[0], mesh: TestMesh): Promise<Record<string, DaemonProcess>> {
  const started = await Promise.all(mesh.ids.map(async id => await startDaemon(tt, mesh, id, SLOW_START)))
  return Object.fromEntries(started.map(d => [d.id, d]))
}

async function incarnation (api: string): Promise<string> {
  return (await apiCall(api, 'GET', '/v1/status')).body.incarnation
}

/** After recovery: a change made on `a` beats its own older one everywhere. */
/**
 * After recovery: `a` deletes one of its own older messages; resolves true once b and c
 * saw it, if the new stamp is past the older change's.
 */
async function newChangeWins (mesh: TestMesh, user: string, message: string): Promise<boolean> {
  const before = await winner(mesh.nodes.a.api, user, message)
  const unread = (await apiCall(mesh.nodes.b.api, 'GET', `/v1/users/${user}/unread/count`)).body.count - 1
  const r = await apiCall(mesh.nodes.a.api, 'POST', '/v1/changes', { body: { user, message, status: 'deleted' } })
  if (r.status !== 200) return false
  for (const id of ['b', 'c']) await waitUnread(mesh.nodes[id].api, user, unread)
  return r.body.entries[0].ts > (before?.ts ?? 0)
}

t.test('a wiped data directory gets the whole state back, its own changes included', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const nodes = await startAll(tt, mesh)
  await markMany(mesh.nodes.a.api, 'ua', 'a', 500)
  await markMany(mesh.nodes.b.api, 'ub', 'b', 500)
  for (const id of mesh.ids) for (const user of ['ua', 'ub']) await waitUnread(mesh.nodes[id].api, user, 500)
  const first = await incarnation(mesh.nodes.a.api)

  await nodes.a.stop()
  await rm(mesh.nodes.a.dataDir, { recursive: true, force: true })
  nodes.a = await startDaemon(tt, mesh, 'a', SLOW_START)
  tt.not(await incarnation(mesh.nodes.a.api), first, 'a wiped store is a new incarnation')
  await waitUnread(mesh.nodes.a.api, 'ub', 500)
  await waitUnread(mesh.nodes.a.api, 'ua', 500)
  tt.pass('a has all 1,000 winners back, its own 500 included')
  tt.ok(await newChangeWins(mesh, 'ua', 'a-7'), 'a change made after the wipe wins over the old one and reaches b and c')
})

t.test('a data directory restored from an older copy takes back what it made after the copy', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const nodes = await startAll(tt, mesh)
  await markMany(mesh.nodes.a.api, 'ua', 'a', 200)
  for (const id of mesh.ids) await waitUnread(mesh.nodes[id].api, 'ua', 200)

  await nodes.a.stop()
  const copy = `${mesh.nodes.a.dataDir}.copy`
  await cp(mesh.nodes.a.dataDir, copy, { recursive: true })
  nodes.a = await startDaemon(tt, mesh, 'a', SLOW_START)
  await markMany(mesh.nodes.a.api, 'ua', 'after-copy', 300)
  // Some changed again after the copy: the restored node must not bring the old status back.
  await markMany(mesh.nodes.a.api, 'ua', 'a', 100, 'read')
  for (const id of mesh.ids) await waitUnread(mesh.nodes[id].api, 'ua', 400)

  await nodes.a.stop()
  await rm(mesh.nodes.a.dataDir, { recursive: true, force: true })
  await cp(copy, mesh.nodes.a.dataDir, { recursive: true })
  nodes.a = await startDaemon(tt, mesh, 'a', SLOW_START)
  await waitUnread(mesh.nodes.a.api, 'ua', 400)
  tt.match(await winner(mesh.nodes.a.api, 'ua', 'after-copy-299'), { origin: 'a', status: 'unread' }, 'the changes made after the copy are back')
  tt.match(await winner(mesh.nodes.a.api, 'ua', 'a-0'), { origin: 'a', status: 'read' }, 'and its later status of older messages')
  for (const id of ['b', 'c']) tt.equal((await apiCall(mesh.nodes[id].api, 'GET', '/v1/users/ua/unread/count')).body.count, 400, `${id} kept them`)
  tt.ok(await newChangeWins(mesh, 'ua', 'after-copy-7'), 'a change made after the restore wins over the old one and reaches b and c')
})
