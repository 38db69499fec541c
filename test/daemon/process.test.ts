import t from 'tap'
import { join } from 'node:path'
import { apiCall, runCli, startDaemon, writeMesh, type CliResult } from '../helpers/daemon.js'
import { main } from '../../src/cli/main.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { EXIT } from '../../src/daemon/exit-codes.js'

t.test('three daemons: mark on a through the CLI, see it on c, status, restart, lock', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'], settings: { heartbeat: '200ms' } })
  const [a, b, c] = await Promise.all(mesh.ids.map(async id => await startDaemon(tt, mesh, id)))
  const on = (id: string): string[] => ['--config', mesh.file, '--node', id]
  // The CLI in this process: same code as bin/marksync.js without a process start per call
  // (the key steps below still run as real processes through runCli).
  const cli = async (args: string[]): Promise<CliResult> => {
    let stdout = ''
    let stderr = ''
    const code = await main(args, { out: s => { stdout += s + '\n' }, err: s => { stderr += s + '\n' } })
    return { code, stdout, stderr }
  }

  const ready = a?.logs.find(l => l.event === 'ready')
  tt.equal(ready?.node, 'a')
  tt.equal(ready?.api, mesh.nodes.a?.api)
  tt.equal(ready?.peerPort, mesh.nodes.a?.peerPort)

  const marked = await runCli(['mark', 'alice', 'msg-1', 'msg-2', 'msg-3', '--status', 'unread', ...on('a')])
  tt.equal(marked.code, 0, marked.stderr)
  tt.match(marked.stdout, /alice msg-1: unread \(origin a, seq 1/)
  const read = await cli(['mark', 'alice', 'msg-2', '-s', 'read', '--api', mesh.nodes.a?.api ?? '', '--json'])
  tt.equal(read.code, 0, read.stderr)
  tt.match(JSON.parse(read.stdout), { entries: [{ user: 'alice', message: 'msg-2', status: 'read', origin: 'a', seq: 4 }] })

  // Poll the API (cheap), then read through the CLI (a process per call).
  await waitFor(async () => (await apiCall(mesh.nodes.c?.api ?? '', 'GET', '/v1/users/alice/unread/count')).body.count === 2,
    { timeoutMs: 15_000, what: 'the marks to reach c' })
  const human = await runCli(['unread', 'alice', ...on('c')])
  tt.equal(human.stdout, '2 unread for alice\n  msg-1\n  msg-3\n')
  const got = await cli(['get', 'alice', 'msg-2', ...on('c')])
  tt.match(got.stdout, /alice msg-2: read\n\s+origin\s+a\n/)

  for (const id of mesh.ids) {
    await waitFor(async () => {
      const body = (await apiCall(mesh.nodes[id]?.api ?? '', 'GET', '/v1/status')).body as { peers: Array<{ connected: boolean }> }
      return body.peers.length === 2 && body.peers.every(p => p.connected)
    }, { timeoutMs: 15_000, what: `${id} to show every peer connected` })
  }
  const json = await cli(['status', '--json', ...on('a')])
  tt.same((JSON.parse(json.stdout) as { peers: Array<{ id: string, connected: boolean }> }).peers.map(p => [p.id, p.connected]).sort(), [['b', true], ['c', true]])
  const metrics = await apiCall(mesh.nodes.a?.api ?? '', 'GET', '/metrics')
  tt.match(metrics.text, /\nmarksync_peers_connected 2\n/)
  tt.match(metrics.text, /\nmarksync_changes_entered_total\{source="local"\} 4\n/)
  tt.match(metrics.text, /\nmarksync_batches_total\{direction="sent"\} [1-9]/)
  tt.match(metrics.text, /\nmarksync_peer_clock_offset_ms\{peer="b"\} -?\d/)
  tt.ok(a?.logs.some(l => l.event === 'peer-connected' && l.peer === 'b'), 'a logged b connecting')
  const table = await runCli(['status', ...on('c')])
  tt.equal(table.code, 0)
  tt.match(table.stdout, /PEER\s+CONNECTED\s+BEHIND/)
  tt.match(table.stdout, /\na\s+yes\s+\d+/)
  tt.match(table.stdout, /\nb\s+yes\s+\d+/)

  // A second daemon on c's data directory fails with the documented message and code.
  const second = await startDaemon(tt, mesh, 'c', { waitReady: false })
  const secondExit = await second.exited
  tt.equal(secondExit.code, EXIT.LOCKED)
  tt.match(second.stderr, `marksync: data directory ${join(dir, 'data', 'c')} is locked: another marksync process is using it (DATA_DIR_LOCKED)`)
  tt.ok(c?.running, 'the first daemon on that directory keeps running')

  // SIGTERM: clean stop, exit 0; a restart on the same directory keeps everything.
  const stopped = await c?.stop('SIGTERM')
  tt.same(stopped, { code: 0, signal: null })
  tt.ok(c?.logs.some(l => l.event === 'stopped'))
  const again = await startDaemon(tt, mesh, 'c')
  const after = await apiCall(mesh.nodes.c?.api ?? '', 'GET', '/v1/users/alice/unread')
  tt.same(after.body, { user: 'alice', count: 2, messages: ['msg-1', 'msg-3'], next: null })
  const state = await apiCall(mesh.nodes.c?.api ?? '', 'GET', '/v1/users/alice/messages/msg-2')
  tt.match(state.body, { status: 'read', origin: 'a' })
  // A change made while c was restarting still reaches it.
  await cli(['mark', 'alice', 'msg-3', '-s', 'deleted', ...on('b')])
  await waitFor(async () => (await apiCall(mesh.nodes.c?.api ?? '', 'GET', '/v1/users/alice/unread/count')).body.count === 1, { timeoutMs: 15_000 })

  for (const d of [a, b, again]) tt.same(await d?.stop(), { code: 0, signal: null })
})
