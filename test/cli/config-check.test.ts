import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { runCli, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { EXIT } from '../../src/daemon/exit-codes.js'

t.test('config check and start report every problem; exit codes', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'] })
  const ok = await runCli(['config', 'check', mesh.file])
  tt.equal(ok.code, 0, ok.stderr)
  tt.match(ok.stdout, /OK, cluster "test", 2 nodes, 1 link/)

  const bad = structuredClone(mesh.json) as any
  bad.links = [['a', 'x']]
  bad.nodes[1].id = 'a'
  bad.nodes[1].api = bad.nodes[0].api
  bad.secret = { env: 'MARKSYNC_TEST_NO_SUCH_SECRET' }
  bad.settings.retention = 'forever'
  bad.tls = { ca: 'missing-ca.pem' }
  await mesh.rewrite(bad)
  const res = await runCli(['config', 'check', mesh.file])
  tt.equal(res.code, 1)
  for (const re of [
    /links\[0\]\[1\]: unknown node "x"/,
    /nodes\[1\]\.id: duplicate node id "a"/,
    /nodes\[1\]\.api: port \d+ on host 127\.0\.0\.1 is also used by nodes\[0\]\.api/,
    /secret\.env: environment variable MARKSYNC_TEST_NO_SUCH_SECRET is not set/,
    /tls\.ca: cannot read TLS file .*missing-ca\.pem/,
    /settings\.retention: bad duration "forever"/
  ]) tt.match(res.stderr, re)

  const start = await startDaemon(tt, mesh, 'a', { waitReady: false })
  const exit = await start.exited
  tt.equal(exit.code, EXIT.USAGE)
  tt.match(start.stderr, /marksync: invalid configuration/)
  tt.match(start.stderr, /settings\.retention: bad duration "forever"/)

  const help = await runCli(['--help'])
  tt.equal(help.code, 0)
  for (const cmd of ['start', 'mark', 'unread', 'get', 'log', 'status', 'purge', 'config', 'demo']) tt.match(help.stdout, new RegExp(`marksync ${cmd}`))
})

t.test('config check: JSON syntax errors by line and column; a node with no links is warned about', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const broken = ['{', '  "cluster": "test",', '  "links": "full"', '  "nodes": []', '}'].join('\n')
  await writeFile(mesh.file, broken)
  const syntax = await runCli(['config', 'check', mesh.file])
  tt.equal(syntax.code, 1)
  tt.match(syntax.stderr, /\(file\): invalid JSON at line 4, column 3: Expected ',' or '}' after property value\n/)
  tt.notMatch(syntax.stderr, /position/)
  await writeFile(mesh.file, '{"cluster": ')
  tt.match((await runCli(['config', 'check', mesh.file])).stderr, /\(file\): invalid JSON at line 1, column 13: Unexpected end of JSON input/)

  const lonely = structuredClone(mesh.json) as Record<string, unknown>
  lonely.links = [['a', 'b']]
  await mesh.rewrite(lonely)
  const warned = await runCli(['config', 'check', mesh.file])
  tt.equal(warned.code, 0, 'a warning does not make the file invalid')
  tt.match(warned.stdout, /OK, cluster "test", 3 nodes, 1 link/)
  tt.equal(warned.stderr, 'warning: nodes[2]: node "c" has no links: it will neither send nor receive any change (add it to "links")\n')
  const json = JSON.parse((await runCli(['config', 'check', mesh.file, '--json'])).stdout) as { ok: boolean, warnings: unknown[] }
  tt.match(json, { ok: true, warnings: [{ path: 'nodes[2]', message: /node "c" has no links/ }] })
  lonely.links = 'full'
  await mesh.rewrite(lonely)
  tt.equal((await runCli(['config', 'check', mesh.file])).stderr, '', 'no warning for a full mesh')
})
