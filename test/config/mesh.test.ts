import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkMeshFile, ConfigError, loadNodeConfig } from '../../src/config/load.js'
import { parseMesh, peersOf } from '../../src/config/mesh.js'
import { formatDuration, parseDuration } from '../../src/config/duration.js'
import { parseAddress } from '../../src/config/address.js'
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LOG_RETENTION_MS } from '../../src/limits.js'
import { tempDir } from '../helpers/tmp.js'

const SECRET = 'a-cluster-secret-of-enough-bytes'

function base (): Record<string, any> {
  return {
    '//': 'comments are ignored',
    cluster: 'mail-eu',
    secret: { file: 'cluster.secret' },
    links: 'full',
    settings: { retention: '2d', heartbeat: 500 },
    nodes: [
      { id: 'a', peerUrl: 'ws://10.0.0.1:7701', api: '127.0.0.1:7801', dataDir: 'data/a' },
      { id: 'b', peerUrl: 'ws://10.0.0.2:7701', api: 7801, dataDir: 'data/b', settings: { retention: '3h', durability: 'relaxed' } },
      { id: 'c', peerUrl: 'ws://10.0.0.3:7701', api: '[::1]:7801', dataDir: '/var/lib/marksync', listen: '0.0.0.0:9000' }
    ]
  }
}

async function write (dir: string, json: unknown, name = 'mesh.json'): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, typeof json === 'string' ? json : JSON.stringify(json, null, 2))
  return file
}

t.test('durations and addresses', async tt => {
  tt.equal(parseDuration(250), 250)
  tt.equal(parseDuration('250ms'), 250)
  tt.equal(parseDuration('10s'), 10_000)
  tt.equal(parseDuration('5m'), 300_000)
  tt.equal(parseDuration('2h'), 7_200_000)
  tt.equal(parseDuration('7d'), DEFAULT_LOG_RETENTION_MS)
  for (const bad of ['7 days', '1h30m', '-5s', '', '1.5s', -1, 1.5, null, {}]) tt.equal(parseDuration(bad), undefined, JSON.stringify(bad))
  tt.equal(formatDuration(DEFAULT_LOG_RETENTION_MS), '7d')
  tt.equal(formatDuration(90_000), '90s')
  tt.equal(formatDuration(250), '250ms')
  tt.same(parseAddress('[::1]:80'), { host: '::1', port: 80 })
  tt.same(parseAddress('7801'), { host: '127.0.0.1', port: 7801 })
  tt.type(parseAddress('host:99999'), 'string')
  tt.type(parseAddress('nohost'), 'string')
  tt.type(parseAddress(70000), 'string')
})

t.test('a valid mesh: settings layered, links, peers, paths resolved', async tt => {
  const dir = await tempDir(tt)
  await writeFile(join(dir, 'cluster.secret'), SECRET + '\n')
  const file = await write(dir, base())
  const { mesh, problems } = checkMeshFile(file)
  tt.same(problems.lines(), [])
  tt.equal(mesh.nodes.length, 3)
  tt.equal(mesh.links.length, 3)
  const [a, b, c] = mesh.nodes
  tt.equal(a?.settings.retentionMs, 2 * 86_400_000)
  tt.equal(a?.settings.heartbeatMs, 500)
  tt.equal(a?.settings.durability, 'sync')
  tt.equal(b?.settings.retentionMs, 3 * 3_600_000)
  tt.equal(b?.settings.durability, 'relaxed')
  tt.equal(b?.settings.heartbeatMs, 500)
  tt.same(b?.api, { host: '127.0.0.1', port: 7801 })
  tt.same(c?.listen, { host: '0.0.0.0', port: 9000 })
  tt.same(a?.listen, { host: '10.0.0.1', port: 7701 })
  tt.equal(a?.dataDir, join(dir, 'data/a'))
  tt.equal(c?.dataDir, '/var/lib/marksync')

  const config = loadNodeConfig(file, 'b', {})
  tt.equal(config.secret.toString(), SECRET, 'trailing newline is not part of the secret')
  tt.same(config.peers, [{ id: 'a', url: 'ws://10.0.0.1:7701' }, { id: 'c', url: 'ws://10.0.0.3:7701' }])
  tt.throws(() => loadNodeConfig(file, 'zz', {}), { code: 'CONFIG_INVALID', message: /no node "zz"/ })
})

t.test('explicit links: hub and spoke with a per-link URL', async tt => {
  const json = base()
  json.links = [['a', 'b'], { nodes: ['a', 'c'], urls: { c: 'ws://127.0.0.1:9999' } }]
  const { mesh, problems } = parseMesh(json, '/etc/marksync')
  tt.same(problems.lines(), [])
  tt.same(peersOf(mesh, 'a'), [{ id: 'b', url: 'ws://10.0.0.2:7701' }, { id: 'c', url: 'ws://127.0.0.1:9999' }])
  tt.same(peersOf(mesh, 'b'), [{ id: 'a', url: 'ws://10.0.0.1:7701' }])
  tt.same(peersOf(mesh, 'c'), [{ id: 'a', url: 'ws://10.0.0.1:7701' }])
})

t.test('every kind of problem is reported with its JSON path', async tt => {
  const dir = await tempDir(tt)
  const json = base()
  json.links = [['a', 'b'], ['a', 'x'], ['b', 'b'], ['b', 'a'], { nodes: ['a', 'c'], urls: { b: 'ws://h:1' } }, 'a-b']
  json.nodes.push({ id: 'a', peerUrl: 'ws://10.0.0.4:7701', api: '127.0.0.1:7802', dataDir: 'data/d' })
  json.nodes.push({ id: 'e', peerUrl: 'http://10.0.0.1:7801', api: 'nonsense', dataDir: '' })
  json.nodes.push({ id: 'f', peerUrl: 'ws://10.0.0.1:7801', api: '10.0.0.1:7701', dataDir: 'data/a', tls: { cert: 'missing-cert.pem', key: 'missing-key.pem' } })
  json.nodes.push({ id: 'g', peerUrl: 'wss://10.0.0.7:7701', api: 7801, dataDir: 'g' })
  json.settings = { retention: '7 days', purgeInterval: 'soon', maxClockSkew: 0, heartbeat: '10ms', batchEntries: 0, batchBytes: 'big', window: 99, durability: 'fast', colour: 'blue', apiToken: { env: 'MARKSYNC_TEST_UNSET_TOKEN_VAR' } }
  json.tls = { ca: 'no-ca.pem' }
  json.extra = true
  const file = await write(dir, json)
  const { problems } = checkMeshFile(file, { env: {} })
  const lines = problems.lines()
  const expect = [
    /^links\[1\]\[1\]: unknown node "x"$/,
    /^links\[2\]: a node cannot link to itself/,
    /^links\[3\]: duplicate link b-a \(also links\[0\]\)/,
    /^links\[4\]\.urls\.b: is not one of the two nodes/,
    /^links\[5\]: a link must be a pair/,
    /^nodes\[3\]\.id: duplicate node id "a" \(also nodes\[0\]\)/,
    /^nodes\[4\]\.peerUrl: .* must start with ws:\/\/ or wss:\/\//,
    /^nodes\[4\]\.api: "nonsense" is not "host:port"/,
    /^nodes\[4\]\.dataDir: must be a non-empty path/,
    /^nodes\[5\]\.listen: port 7801 on host 10\.0\.0\.1 is also used by nodes\[0\]\.api/,
    /^nodes\[5\]\.api: port 7701 on host 10\.0\.0\.1 is also used by nodes\[0\]\.listen/,
    /^nodes\[5\]\.dataDir: same data directory on host 10\.0\.0\.1 as nodes\[0\]\.dataDir/,
    /^nodes\[5\]\.tls\.cert: cannot read TLS file .*missing-cert\.pem: ENOENT/,
    /^nodes\[5\]\.tls\.key: cannot read TLS file .*missing-key\.pem: ENOENT/,
    /^nodes\[6\]\.peerUrl: a wss:\/\/ node needs "tls"/,
    /^settings\.retention: bad duration "7 days"/,
    /^settings\.purgeInterval: bad duration "soon"/,
    /^settings\.maxClockSkew: must be at least 1 ms/,
    /^settings\.heartbeat: must be at least 50 ms/,
    /^settings\.batchEntries: must be an integer 1\.\./,
    /^settings\.batchBytes: must be an integer 1024\.\./,
    /^settings\.window: must be an integer 1\.\./,
    /^settings\.durability: must be "sync" or "relaxed"/,
    /^settings\.colour: unknown key/,
    /^settings\.apiToken\.env: environment variable MARKSYNC_TEST_UNSET_TOKEN_VAR is not set/,
    /^secret\.file: cannot read secret file cluster\.secret: ENOENT/,
    /^tls\.ca: cannot read TLS file .*no-ca\.pem: ENOENT/,
    /^extra: unknown key/
  ]
  for (const re of expect) tt.ok(lines.some(line => re.test(line)), `reports ${re.source}`)
  tt.equal(lines.length, expect.length, `exactly these problems:\n${lines.join('\n')}`)
})

t.test('secrets: inline refused, env and file checked, too short refused', async tt => {
  const dir = await tempDir(tt)
  const inline = base()
  inline.secret = 'hunter2'
  tt.match(checkMeshFile(await write(dir, inline, 'inline.json'), { env: {} }).problems.lines(), [/^secret: secrets are never written inline/])
  const env = base()
  env.secret = { env: 'MESH_SECRET' }
  const envFile = await write(dir, env, 'env.json')
  tt.match(checkMeshFile(envFile, { env: {} }).problems.lines(), [/^secret\.env: environment variable MESH_SECRET is not set/])
  tt.same(checkMeshFile(envFile, { env: { MESH_SECRET: SECRET } }).problems.lines(), [])
  tt.match(checkMeshFile(envFile, { env: { MESH_SECRET: 'short' } }).problems.lines(), [/^secret: secret is 5 bytes; at least 16/])
  const both = base()
  both.secret = { file: 'x', env: 'Y' }
  tt.match(checkMeshFile(await write(dir, both, 'both.json'), { env: {} }).problems.lines(), [/^secret: must name exactly one/])
  const none = base()
  delete none.secret
  tt.match(checkMeshFile(await write(dir, none, 'none.json'), { env: {} }).problems.lines(), [/^secret: missing/])
  const err = (() => { try { loadNodeConfig(envFile, 'a', {}) } catch (e) { return e } })()
  tt.ok(err instanceof ConfigError)
  tt.match((err as ConfigError).problems, [/MESH_SECRET is not set/])
})

t.test('unreadable or malformed files, bad top-level shapes', async tt => {
  const dir = await tempDir(tt)
  tt.match(checkMeshFile(join(dir, 'absent.json')).problems.lines(), [/^\(file\): cannot read .*absent\.json: ENOENT/])
  tt.match(checkMeshFile(await write(dir, '{"cluster": ', 'broken.json')).problems.lines(), [/^\(file\): invalid JSON/])
  tt.match(checkMeshFile(await write(dir, '[]', 'array.json')).problems.lines(), [/^\(file\): the mesh file must hold a JSON object/])
  const lines = checkMeshFile(await write(dir, { cluster: 'bad name!', secret: { env: 'X' }, nodes: [], links: 'ring', settings: 3, tls: 'x' }, 'shapes.json'), { env: { X: SECRET } }).problems.lines()
  for (const re of [/^cluster: must be 1\.\.64/, /^nodes: must be a non-empty array/, /^links: must be "full" or an array/, /^settings: must be an object/, /^tls: must be \{"ca": "path"\}/]) {
    tt.ok(lines.some(l => re.test(l)), re.source)
  }
  await mkdir(join(dir, 'sub'))
  tt.equal(DEFAULT_HEARTBEAT_MS > 0, true)
})

t.test('--node checks only that node\'s host files', async tt => {
  const dir = await tempDir(tt)
  await writeFile(join(dir, 'cluster.secret'), SECRET)
  await writeFile(join(dir, 'a.pem'), 'cert')
  const json = base()
  json.nodes[0].tls = { cert: 'a.pem', key: 'a.pem' }
  json.nodes[1].tls = { cert: 'b.pem', key: 'b.pem' }
  const file = await write(dir, json)
  tt.same(checkMeshFile(file, { nodeId: 'a', env: {} }).problems.lines(), [])
  tt.equal(checkMeshFile(file, { env: {} }).problems.list.length, 2)
  tt.match(checkMeshFile(file, { nodeId: 'q', env: {} }).problems.lines(), [/no node "q"/])
  const config = loadNodeConfig(file, 'a', {})
  tt.equal(config.tls?.cert?.toString(), 'cert')
})

t.test('the shipped example mesh files are valid (structure; host files are not on this machine)', async tt => {
  const { readFile } = await import('node:fs/promises')
  const root = new URL('../../', import.meta.url)
  for (const name of ['docs/examples/three-hosts.json', 'docs/examples/hub-and-spoke.json', 'examples/demo-mesh.json']) {
    const raw = JSON.parse(await readFile(new URL(name, root), 'utf8')) as unknown
    const { mesh, problems } = parseMesh(raw, '/etc/marksync')
    tt.same(problems.lines(), [], name)
    tt.ok(mesh.nodes.length >= 3, name)
  }
  const hub = parseMesh(JSON.parse(await readFile(new URL('docs/examples/hub-and-spoke.json', root), 'utf8')), '/etc/marksync').mesh
  tt.same(peersOf(hub, 'lille'), [{ id: 'hub', url: 'wss://172.16.0.1:7701' }])
  tt.same(peersOf(hub, 'hub').map(p => p.id), ['paris', 'lyon', 'lille'])
})

t.test('acceptSecrets: extra secrets for a rotation, read and checked like the secret', async tt => {
  const dir = await tempDir(tt)
  await writeFile(join(dir, 'cluster.secret'), SECRET)
  await writeFile(join(dir, 'old.secret'), 'the-old-cluster-secret-bytes\n')
  const json = base()
  json.acceptSecrets = [{ file: 'old.secret' }, { env: 'OLDER_SECRET' }]
  const file = await write(dir, json)
  const config = loadNodeConfig(file, 'a', { OLDER_SECRET: 'an-even-older-secret-value' })
  tt.same(config.acceptSecrets.map(b => b.toString()), ['the-old-cluster-secret-bytes', 'an-even-older-secret-value'])
  tt.same(loadNodeConfig(await write(dir, base(), 'plain.json'), 'a', {}).acceptSecrets, [])
  tt.match(checkMeshFile(file, { env: {} }).problems.lines(), [/^acceptSecrets\[1\]\.env: environment variable OLDER_SECRET is not set/])
  json.acceptSecrets = [{ file: 'old.secret' }, 'inline']
  tt.match(checkMeshFile(await write(dir, json, 'inline.json'), { env: {} }).problems.lines(), [/^acceptSecrets\[1\]: secrets are never written inline/])
  json.acceptSecrets = { file: 'old.secret' }
  tt.match(checkMeshFile(await write(dir, json, 'shape.json'), { env: {} }).problems.lines(), [/^acceptSecrets: must be an array of at most 4/])
})
