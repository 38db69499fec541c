/**
 * Secrets never leave: a real daemon (debug logging) are put through failed peer
 * handshakes, bad frames from an authenticated peer, wrong API tokens, status, metrics,
 * the CLI and config checks (including a secret written inline by mistake), and every
 * byte they print or answer is searched for the cluster secret and the API token, raw
 * and in hex and base64.
 */
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, runCli, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { RawPeer } from '../replication/raw-peer.js'

const SECRET = 'cluster-secret-Zq8W3vLk0pXy7RtN'
const TOKEN = 'api-token-Hm4Jd9Qs2Bf6Gc1V'

function forms (secret: string): string[] {
  const b = Buffer.from(secret)
  return [secret, b.toString('hex'), b.toString('base64'), b.toString('base64url'), JSON.stringify(secret).slice(1, -1), secret.slice(0, 12)]
}

t.test('the cluster secret and the API token appear in no log line, answer, status or error', async t => {
  const dir = await tempDir(t)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'], secret: SECRET, apiToken: TOKEN, settings: { heartbeat: '200ms' } })
  const env = { MARKSYNC_LOG_LEVEL: 'debug' }
  // One daemon: its peer b is played by raw clients below (one that knows the secret).
  const a = await startDaemon(t, mesh, 'a', { env })
  const outputs: Array<[string, string]> = []
  const api = mesh.nodes.a?.api ?? ''

  // Peer-side failures: a wrong secret, then garbage from a peer that knows the right one.
  const port = mesh.nodes.a?.peerPort ?? 0
  const wrong = await RawPeer.connect(port)
  await wrong.handshake('b', 'a', { secret: Buffer.from('wrong-secret-0000000000'), cluster: mesh.cluster })
  await wrong.waitClosed()
  t.equal(wrong.errorCode(), 'AUTH_FAILED')
  const bad = await RawPeer.connect(port)
  await bad.handshake('b', 'a', { secret: Buffer.from(SECRET), cluster: mesh.cluster })
  await waitFor(async () => (await apiCall(api, 'GET', '/v1/status', { token: TOKEN })).body.peers?.[0]?.connected === true, { what: 'the raw b authenticated' })
  outputs.push(['status with b connected', (await apiCall(api, 'GET', '/v1/status', { token: TOKEN })).text])
  bad.send(Buffer.from([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xc1]))
  await bad.waitClosed()
  outputs.push(['error frames to peers', JSON.stringify([...wrong.frames, ...bad.frames])])
  await a.waitForLog(l => l.event === 'peer-rejected' && (l as { code?: string }).code === 'AUTH_FAILED')

  // API: wrong tokens, then everything an operator reads.
  for (const token of [undefined, 'nope', TOKEN.slice(0, -1)]) outputs.push([`401 (${String(token)})`, (await apiCall(api, 'GET', '/v1/status', { token })).text])
  await apiCall(api, 'POST', '/v1/changes', { token: TOKEN, body: { user: 'u', message: 'm', status: 'read' } })
  for (const path of ['/v1/status', '/metrics', '/v1/users/u/log', '/v1/winners', '/v1/health']) {
    const r = await apiCall(api, 'GET', path, { token: TOKEN })
    t.equal(r.status, 200, path)
    outputs.push([path, r.text])
  }
  outputs.push(['bad request', (await apiCall(api, 'POST', '/v1/changes', { token: TOKEN, body: '{"user": ' })).text])

  // CLI (processes, run side by side): status with the token read from the mesh file, a
  // wrong token, config checks, and two broken mesh files: a secret and a token written
  // inline by mistake, and a secret that is too short. Problems name the path, not the value.
  const on = ['--config', mesh.file, '--node', 'a']
  const inline = join(dir, 'inline.json')
  await writeFile(inline, JSON.stringify({ ...mesh.json, secret: SECRET, settings: { apiToken: TOKEN } }))
  const short = join(dir, 'short.json')
  await writeFile(join(dir, 'short.secret'), SECRET.slice(0, 8))
  await writeFile(short, JSON.stringify({ ...mesh.json, secret: { file: 'short.secret' } }))
  const runs = [['status', ...on], ['status', '--json', ...on], ['status', '--api', api, '--token', 'nope'],
    ['config', 'check', mesh.file, '--node', 'a', '--json'], ['config', 'check', inline, '--node', 'a'], ['config', 'check', short, '--node', 'a']]
  const results = await Promise.all(runs.map(async args => await runCli(args)))
  runs.forEach((args, i) => outputs.push([`marksync ${args.join(' ')}`, (results[i]?.stdout ?? '') + (results[i]?.stderr ?? '')]))
  // Exit 1, not 0: the raw b has gone, and status exits 1 when every peer is down.
  t.equal(results[0]?.code, 1, 'status with the token from the mesh file: every peer down')
  t.notMatch(results[0]?.stderr ?? '', /TOKEN_|UNAUTHORIZED/, 'status works with the token from the mesh file')
  t.equal(JSON.parse(results[1]?.stdout ?? '{}').node, 'a', 'status --json answers with the token from the mesh file')
  t.not(results[2]?.code, 0, 'a wrong token is refused')
  t.equal(results[4]?.code, 1, 'inline secrets are refused')
  t.equal(results[5]?.code, 1, 'a short secret is refused')
  await a.stop()
  outputs.push(['daemon a', a.stdout + a.stderr])
  t.ok(a.logs.some(l => l.event === 'peer-rejected'), 'the failures were logged')
  t.ok(a.logs.length >= 5, `a logged ${a.logs.length} lines`)

  for (const [what, text] of outputs) {
    for (const form of [...forms(SECRET), ...forms(TOKEN)]) {
      t.notOk(text.includes(form), `${what}: holds no form of a secret (${form.slice(0, 4)}...)`)
    }
  }
})
