import t from 'tap'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, BIN, ROOT, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

t.test('demo starts three nodes, a change replicates, Ctrl-C stops them cleanly', async tt => {
  const dir = await tempDir(tt)
  // The demo uses an existing mesh file in its directory: give it one with free ports.
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const child = spawn(process.execPath, [BIN, 'demo', '--dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const pids = (): number[] => [...stdout.matchAll(/\(pid (\d+),/g)].map(m => Number(m[1]))
  tt.teardown(async () => {
    for (const pid of [child.pid as number, ...pids()]) try { process.kill(pid, 'SIGKILL') } catch {}
  })
  await waitFor(() => stdout.includes('Ctrl-C stops all nodes.'), { timeoutMs: 40_000, what: `the demo to be up\n${stdout}\n${stderr}` })
  for (const id of mesh.ids) tt.match(stdout, `node ${id}: API ${mesh.nodes[id]?.api ?? ''}`)
  tt.match(stdout, `mark alice msg-1 msg-2 --status unread --api ${mesh.nodes.a?.api ?? ''}`)
  tt.match(stdout, `unread alice --api ${mesh.nodes.c?.api ?? ''}`)
  tt.equal(pids().length, 3)

  await apiCall(mesh.nodes.a?.api ?? '', 'POST', '/v1/changes', { body: { changes: [{ user: 'alice', message: 'msg-1', status: 'unread' }] } })
  await waitFor(async () => (await apiCall(mesh.nodes.c?.api ?? '', 'GET', '/v1/users/alice/unread/count')).body.count === 1, { timeoutMs: 15_000 })

  child.kill('SIGINT')
  tt.equal(await exited, 0, stderr)
  tt.match(stdout, /all nodes stopped cleanly/)
  for (const pid of pids()) tt.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `node pid ${pid} is gone`)
  const log = await readFile(join(dir, 'a.log'), 'utf8')
  tt.match(log, /"event":"ready"/)
  tt.match(log, /"event":"stopped"/)
})
