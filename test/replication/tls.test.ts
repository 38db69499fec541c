import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { connected, fullMesh, startNodes, type TestNode } from './helpers.js'

function selfSigned (dir: string): { cert: Buffer, key: Buffer } | undefined {
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'
    ], { stdio: 'ignore', timeout: 10_000 })
    return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }
  } catch {
    return undefined
  }
}

t.test('replication over wss:// with the cluster CA', async t => {
  const pem = selfSigned(await tempDir(t))
  if (pem === undefined) {
    t.pass('openssl is not available to make a test certificate: skipped')
    return
  }
  const tls = { ca: pem.cert, cert: pem.cert, key: pem.key }
  const nodes = await startNodes(t, fullMesh(['a', 'b'], { tls }))
  const [a, b] = ['a', 'b'].map(id => nodes.get(id) as TestNode)
  await waitFor(() => connected(a, 'b'), { what: 'tls link up' })
  t.match(a.repl.status()[0].url, /^wss:/)
  await a.store.mark([{ user: 'u', message: 'tls', status: 'read' }])
  await waitFor(async () => (await b.store.get('u', 'tls'))?.status === 'read', { what: 'replicated over TLS' })
  // A client that does not trust the cluster CA cannot connect at all.
  const ws = new WebSocket(`wss://127.0.0.1:${a.port}`)
  const err = await new Promise<Error>(resolve => ws.once('error', resolve))
  t.match(err.message, /self[- ]signed|certificate/i)
})
