import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { apiCall, ROOT, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

/**
 * docs/operations.md "TLS certificates": its openssl commands, run as written (once for
 * the CA, per node for mx1 and mx2), give certificates on which a two-node wss:// mesh
 * with mutual TLS replicates.
 */
const run = promisify(execFile)
const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0

async function howTo (): Promise<{ ca: string, node: string }> {
  const doc = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## TLS certificates'))
  const blocks = [...section.matchAll(/```sh\n([^]*?)```/g)].map(m => m[1] as string)
  return { ca: blocks[0] as string, node: blocks[1] as string }
}

t.test('the TLS how-to makes certificates a two-node wss mesh runs on', { skip: hasOpenssl ? false : 'openssl not installed' }, async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['mx1', 'mx2'] })
  const { ca, node } = await howTo()
  await run('bash', ['-e', '-c', ca], { cwd: dir })
  for (const id of ['mx1', 'mx2']) await run('bash', ['-e', '-c', node.replaceAll('mx1', id)], { cwd: dir })
  const json = structuredClone(mesh.json) as { tls?: unknown, nodes: Array<{ id: string, peerUrl: string, tls?: unknown }> }
  json.tls = { ca: 'ca.pem' }
  for (const n of json.nodes) {
    n.peerUrl = n.peerUrl.replace('ws://', 'wss://')
    n.tls = { cert: `${n.id}.pem`, key: `${n.id}.key` }
  }
  await mesh.rewrite(json)
  await startDaemon(tt, mesh, 'mx1')
  await startDaemon(tt, mesh, 'mx2')
  await apiCall(mesh.nodes.mx1?.api ?? '', 'POST', '/v1/changes', { body: { user: 'alice', message: 'm1', status: 'unread' } })
  await waitFor(async () => (await apiCall(mesh.nodes.mx2?.api ?? '', 'GET', '/v1/users/alice/unread/count')).body.count === 1,
    { timeoutMs: 30_000, what: 'the change to cross the TLS link' })
  const peers = (await apiCall(mesh.nodes.mx2?.api ?? '', 'GET', '/v1/status')).body.peers as Array<{ url: string, connected: boolean }>
  tt.match(peers, [{ url: /^wss:\/\//, connected: true }])
})
