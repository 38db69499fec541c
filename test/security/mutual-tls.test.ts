/**
 * With a cluster CA, TLS is mutual: nodes whose certificates the CA signed replicate;
 * a client with no certificate, or one the CA did not sign, is refused during the TLS
 * handshake; a client with a good certificate but a wrong secret still fails the HMAC
 * handshake (the two layers are independent). Certificates are made with openssl; the
 * test passes with a note where openssl is missing.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { computeProof, decodeFrame, encodeFrame, newNonce, type Frame } from '../../src/protocol/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { CLUSTER, connected, fullMesh, startNodes, type TestNode } from '../replication/helpers.js'

interface Pem { cert: Buffer, key: Buffer }

function openssl (args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore', timeout: 10_000 })
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/** A CA, a node certificate it signs (for 127.0.0.1), and a self-signed rogue one. */
function certificates (dir: string): { ca: Pem, node: Pem, rogue: Pem } | undefined {
  try {
    const f = (name: string): string => join(dir, name)
    openssl(['req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=marksync test CA'])
    openssl(['req', ...EC, '-keyout', f('node.key'), '-out', f('node.csr'), '-subj', '/CN=127.0.0.1'])
    writeFileSync(f('node.ext'), 'subjectAltName=IP:127.0.0.1\n')
    openssl(['x509', '-req', '-in', f('node.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('node.pem'), '-days', '1', '-extfile', f('node.ext')])
    openssl(['req', '-x509', ...EC, '-keyout', f('rogue.key'), '-out', f('rogue.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    const pem = (name: string): Pem => ({ cert: readFileSync(f(`${name}.pem`)), key: readFileSync(f(`${name}.key`)) })
    return { ca: pem('ca'), node: pem('node'), rogue: pem('rogue') }
  } catch {
    return undefined
  }
}

/** Dials with the given client certificate (trusting the CA); 'open' or the error. */
async function dial (port: number, ca: Buffer, client?: Pem): Promise<{ ws: WebSocket, result: string }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}`, { ca, ...(client ?? {}) })
  return await new Promise(resolve => {
    ws.once('open', () => resolve({ ws, result: 'open' }))
    ws.once('error', err => resolve({ ws, result: err.message }))
  })
}

t.test('mutual TLS with the cluster CA', async t => {
  const pems = certificates(await tempDir(t))
  if (pems === undefined) {
    t.pass('openssl is not available to make test certificates: skipped')
    return
  }
  const tls = { ca: pems.ca.cert, cert: pems.node.cert, key: pems.node.key }
  const nodes = await startNodes(t, fullMesh(['a', 'b'], { tls }))
  const [a, b] = ['a', 'b'].map(id => nodes.get(id) as TestNode) as [TestNode, TestNode]
  await waitFor(() => connected(a, 'b') && connected(b, 'a'), { what: 'the CA-signed nodes connect' })
  await a.store.mark([{ user: 'u', message: 'mtls', status: 'read' }])
  await waitFor(async () => (await b.store.get('u', 'mtls'))?.status === 'read', { what: 'replication over mutual TLS' })

  const none = await dial(a.port, pems.ca.cert)
  t.not(none.result, 'open', `no client certificate: refused (${none.result})`)
  const rogue = await dial(a.port, pems.ca.cert, pems.rogue)
  t.not(rogue.result, 'open', `a certificate the CA did not sign: refused (${rogue.result})`)

  // A good certificate does not replace the secret.
  const good = await dial(a.port, pems.ca.cert, pems.node)
  t.equal(good.result, 'open', 'a CA-signed client gets a WebSocket')
  const frames: Frame[] = []
  good.ws.on('message', (d: Buffer) => { try { frames.push(decodeFrame(d)) } catch {} })
  const closed = new Promise<number>(resolve => good.ws.once('close', code => resolve(code)))
  const nonce = newNonce()
  good.ws.send(encodeFrame({ type: 'hello', versions: [1], cluster: CLUSTER, node: 'b', nonce, time: Date.now() }))
  const welcome = await waitFor(() => frames.find(f => f.type === 'welcome'), { what: 'the welcome' })
  if (welcome.type !== 'welcome') throw new Error('welcome')
  const proof = computeProof(Buffer.from('wrong secret, right certificate'), { role: 'dialer', version: 1, cluster: CLUSTER, dialer: 'b', acceptor: 'a', dialerNonce: nonce, acceptorNonce: welcome.nonce })
  good.ws.send(encodeFrame({ type: 'auth', proof, time: Date.now(), echo: welcome.time }))
  t.equal(await closed, 1008, 'then closed for the wrong secret')
  t.match(frames.find(f => f.type === 'error'), { code: 'AUTH_FAILED' })
  for (const d of [none, rogue, good]) d.ws.terminate()
})
