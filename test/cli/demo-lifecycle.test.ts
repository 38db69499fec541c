import t from 'tap'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, runCli, startDaemon, startDemo, writeMesh, type DemoProcess, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

/**
 * The demo's life cycle as the README tour uses it: one node killed leaves the others
 * running and can be restarted by the printed command; a demo killed with -9 or hung up
 * takes its nodes with it, and a next demo on the same directory starts.
 */

async function demoUp (demo: DemoProcess): Promise<void> {
  await waitFor(() => demo.out().includes('Ctrl-C stops all nodes.'), { timeoutMs: 60_000, what: `the demo to be up\n${demo.out()}\n${demo.err()}` })
}

/** Alive and not a zombie waiting for a parent that no longer reaps it. */
function alive (pid: number): boolean {
  try { process.kill(pid, 0) } catch { return false }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return true }
}

async function unreadCount (mesh: TestMesh, id: string): Promise<number | undefined> {
  return (await apiCall(mesh.nodes[id]?.api ?? '', 'GET', '/v1/users/alice/unread/count')).body.count
}

t.test('README tour: kill one node, the others keep going, the printed command restarts it and it catches up', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const demo = startDemo(tt, dir)
  await demoUp(demo)
  const c = demo.pids().c as number
  process.kill(c, 'SIGTERM') // `kill <pid>` as the README says
  await waitFor(() => demo.out().includes('node c exited with code 0; the other nodes keep running'), { timeoutMs: 20_000, what: `c's exit to be reported\n${demo.out()}` })
  tt.match(demo.out(), `node bin/marksync.js start --config ${join(dir, 'mesh.json')} --node c`)
  tt.equal(demo.child.exitCode, null, 'the demo still runs')
  const marked = await runCli(['mark', 'alice', 'msg-9', '--status', 'unread', '--api', mesh.nodes.a?.api ?? ''])
  tt.equal(marked.code, 0, marked.stderr)
  await waitFor(async () => await unreadCount(mesh, 'b') === 1, { timeoutMs: 20_000, what: 'b to have the mark while c is down' })

  const restarted = await startDaemon(tt, mesh, 'c', { readyTimeoutMs: 60_000 })
  await waitFor(async () => await unreadCount(mesh, 'c') === 1, { timeoutMs: 20_000, what: 'the restarted c to catch up' })
  tt.same(await restarted.stop(), { code: 0, signal: null })
  demo.child.kill('SIGINT')
  tt.equal(await demo.exited, 0, demo.err())
  tt.match(demo.out(), /all nodes stopped cleanly/)
  for (const [id, pid] of Object.entries(demo.pids())) tt.notOk(alive(pid), `node ${id} is gone`)
})

t.test('a demo killed with -9 or hung up takes its nodes with it; the next demo starts on the same directory', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const first = startDemo(tt, dir)
  await demoUp(first)
  first.child.kill('SIGKILL')
  await first.exited
  for (const [id, pid] of Object.entries(first.pids())) {
    await waitFor(() => !alive(pid), { timeoutMs: 20_000, what: `node ${id} (pid ${pid}) to stop after its demo was killed` })
  }
  const log = await readFile(join(dir, 'a.log'), 'utf8')
  tt.match(log, /"event":"stopping","reason":"stdin-closed"/, 'a stopped cleanly because its pipe to the demo closed')
  tt.match(log, /"event":"stopped"/)

  const second = startDemo(tt, dir)
  await demoUp(second)
  tt.equal(await unreadCount(mesh, 'a'), 0, 'the second demo\'s nodes answer')
  second.child.kill('SIGHUP')
  tt.equal(await second.exited, 0, second.err())
  tt.match(second.out(), /stopping \(SIGHUP\)[^]*all nodes stopped cleanly/)
  for (const [id, pid] of Object.entries(second.pids())) tt.notOk(alive(pid), `node ${id} is gone after SIGHUP`)
})

t.test('a demo whose node cannot start says which node and why, and stops the others', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const squatter = createServer(socket => socket.destroy()) // holds the port; answers nobody
  await new Promise<void>(resolve => squatter.listen(mesh.nodes.b?.peerPort, '127.0.0.1', () => resolve()))
  tt.teardown(async () => await new Promise<void>(resolve => squatter.close(err => { if (err !== undefined) console.error('CLOSE', err); resolve() })))
  const demo = startDemo(tt, dir)
  tt.equal(await demo.exited, 1)
  tt.match(demo.err(), `[b] marksync: the peer address 127.0.0.1:${mesh.nodes.b?.peerPort ?? 0} of node b is already in use by another process`)
  tt.match(demo.err(), /marksync demo: node b exited with code 1: marksync: the peer address .* \(EADDRINUSE\)/)
  const recorded = JSON.parse(readFileSync(join(dir, 'a.log'), 'utf8').trim().split('\n').pop() ?? '{}') as { event?: string }
  tt.equal(recorded.event, 'stopped', 'a was stopped cleanly')
})
