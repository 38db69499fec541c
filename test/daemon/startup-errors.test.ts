import t, { type Test } from 'tap'
import { createServer, type Server } from 'node:net'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startDaemon, writeMesh, type DaemonProcess } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { EXIT } from '../../src/daemon/exit-codes.js'

/**
 * A daemon that cannot start says why in one line on stderr and exits with the
 * documented code (docs/operations.md "Exit codes"): no stack trace, no fatal crash
 * line, and no "started" event for a start that failed.
 */
async function occupy (t: Test, port: number): Promise<Server> {
  const server = createServer(socket => socket.destroy()) // holds the port; answers nobody
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  t.teardown(async () => await new Promise<void>(resolve => server.close(() => resolve())))
  return server
}

async function failedStart (t: Test, node: DaemonProcess, code: number): Promise<string[]> {
  const exit = await node.exited
  t.same(exit, { code, signal: null }, node.stderr)
  const lines = node.stderr.trimEnd().split('\n')
  t.equal(lines.length, 1, `one line on stderr: ${node.stderr}`)
  t.match(lines[0], /^marksync: \S/, 'the line says what failed')
  t.notMatch(node.stderr, /\n\s+at /, 'no stack trace')
  t.notOk(node.logs.some(l => l.level === 'fatal' || l.event === 'crash'), 'no crash logged')
  t.notOk(node.logs.some(l => l.event === 'started'), 'no "started" for a failed start')
  t.ok(node.logs.some(l => l.event === 'start-failed'), 'start-failed logged')
  return lines
}

t.test('replication port in use: one line naming the node and address, exit 1', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'] })
  await occupy(tt, mesh.nodes.a?.peerPort ?? 0)
  const node = await startDaemon(tt, mesh, 'a', { waitReady: false })
  const [line] = await failedStart(tt, node, EXIT.FAILURE)
  tt.equal(line, `marksync: the peer address 127.0.0.1:${mesh.nodes.a?.peerPort ?? 0} of node a is already in use by another process: stop it, or change "listen" (or the port of "peerUrl") of node a in the mesh file (EADDRINUSE)`)
  tt.ok(node.logs.some(l => l.event === 'starting'), 'the attempt is logged as "starting"')
})

t.test('API port in use: one line naming the API address, exit 1', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a'] })
  await occupy(tt, mesh.nodes.a?.apiPort ?? 0)
  const node = await startDaemon(tt, mesh, 'a', { waitReady: false })
  const [line] = await failedStart(tt, node, EXIT.FAILURE)
  tt.match(line, `the API address 127.0.0.1:${mesh.nodes.a?.apiPort ?? 0} of node a is already in use`)
})

t.test('a data directory that cannot be opened: the cause and the path, exit 5', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a'] })
  const json = structuredClone(mesh.json) as { nodes: Array<{ dataDir: string }> }
  await writeFile(join(dir, 'a-file'), 'not a directory\n')
  const cases: Array<[string, RegExp]> = [
    ['a-file', /data directory .*a-file cannot be opened: the path exists and is not a directory \(EEXIST on .*a-file\)/],
    ['a-file/data', /data directory .*a-file\/data cannot be opened: a part of the path is a file, not a directory \(ENOTDIR on .*a-file\/data\)/]
  ]
  // Root may write anywhere: the permission case needs an ordinary user.
  if (process.getuid?.() !== 0) {
    await mkdir(join(dir, 'locked-up'), { mode: 0o555 })
    await chmod(join(dir, 'locked-up'), 0o555)
    cases.push(['locked-up/data', /cannot be opened: permission denied: the user running marksync cannot create or write it \(EACCES on .*locked-up\/data\)/])
  } else {
    tt.comment('EACCES case skipped: running as root, who may write anywhere')
  }
  for (const [dataDir, expected] of cases) {
    json.nodes[0] = { ...json.nodes[0], dataDir } as { dataDir: string }
    await mesh.rewrite(json)
    const node = await startDaemon(tt, mesh, 'a', { waitReady: false })
    const [line] = await failedStart(tt, node, EXIT.DATA_DIR_UNUSABLE)
    tt.match(line, expected)
    tt.match(line, /fix the directory or "dataDir" of node a \(DATA_DIR_UNUSABLE\)$/)
  }
})
