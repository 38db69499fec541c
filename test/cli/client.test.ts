import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import type { Store } from '../../src/store/index.js'
import type { PeerStatus } from '../../src/replication/api.js'
import { ago, isoTime, signedMs, table } from '../../src/cli/format.js'
import { startNode } from '../helpers/node.js'
import type { Teardown } from '../helpers/teardown.js'
import { tempDir } from '../helpers/tmp.js'

function capture (): { io: { out: (s: string) => void, err: (s: string) => void }, out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: s => out.push(s), err: s => err.push(s) }, out, err }
}

const PEERS: PeerStatus[] = [
  { id: 'b', url: 'ws://127.0.0.1:1', connected: true, since: Date.now() - 5000, cursor: 3, behind: 0, lastAckAt: Date.now() - 2000, clockOffsetMs: 12, skewed: false, held: false, holding: false, hold: null, lastError: null, batchesSent: 2, batchesReceived: 1, entriesEntered: 1, entriesStale: 0, entriesDuplicate: 0, bytesSent: 100, bytesReceived: 50, stateTransfers: 0 },
  { id: 'c', url: 'ws://127.0.0.1:2', connected: false, since: Date.now() - 120_000, cursor: 0, behind: 3, lastAckAt: null, clockOffsetMs: -90_000, skewed: true, held: false, holding: true, hold: { reason: 'CLOCK_SKEW', since: Date.now() - 60_000, aheadMs: 90_000, until: null }, lastError: { code: 'SOCKET_ERROR', reason: 'connect ECONNREFUSED', at: Date.now() - 1000 }, batchesSent: 0, batchesReceived: 0, entriesEntered: 0, entriesStale: 0, entriesDuplicate: 0, bytesSent: 0, bytesReceived: 0, stateTransfers: 0 }
]

async function node (tt: Teardown, token?: string): Promise<{ url: string, store: Store }> {
  const { url, store } = await startNode(tt, { id: 'a', api: { ...(token !== undefined ? { token } : {}), backend: { cluster: 'c1', retentionMs: 1000, peers: () => PEERS } } })
  return { url, store }
}

t.test('client commands in-process: human and JSON output', async tt => {
  const { url } = await node(tt)
  const run = async (...args: string[]): Promise<{ code: number, out: string, err: string }> => {
    const c = capture()
    const code = await main([...args, '--api', url], c.io)
    return { code, out: c.out.join('\n'), err: c.err.join('\n') }
  }
  const marked = await run('mark', '007', 'm1', 'm2', 'm3', '--status', 'unread')
  tt.equal(marked.code, 0, marked.err)
  tt.match(marked.out, /^007 m1: unread \(origin a, seq 1, ts \d+\)\n007 m2/)
  tt.equal((await run('mark', '007', 'm2', '-s', 'read')).code, 0)

  const page = await run('unread', '007', '--limit', '1')
  tt.equal(page.out, '2 unread for 007\n  m1\n  ... more: --after "m1"')
  const rest = await run('unread', '007', '--after', 'm1', '--json')
  tt.same(JSON.parse(rest.out), { user: '007', count: 2, messages: ['m3'], next: null })

  const got = await run('get', '007', 'm2')
  tt.match(got.out, /^007 m2: read\n  origin      a\n  ts          \d+\n  origin time \d{4}-.*Z\n  local time  \d{4}-.*Z\n  seq         4$/)
  const missing = await run('get', '007', 'nope')
  tt.equal(missing.code, 1)
  tt.match(missing.err, /NOT_FOUND/)

  const log = await run('log', '007', '--limit', '2')
  tt.match(log.out, /^SEQ\s+MESSAGE\s+STATUS\s+ORIGIN\s+FROM\s+ORIGIN TIME\s+LOCAL TIME\n1\s+m1\s+unread\s+a\s+-\s+/)
  tt.match(log.out, /\.\.\. more: --after 2$/)
  const log2 = await run('log', '007', '--after', '2', '--json')
  tt.same(JSON.parse(log2.out).entries.map((e: { seq: number }) => e.seq), [3, 4])
  tt.equal((await run('log', 'nobody')).out, 'no log entries for nobody')

  const status = await run('status')
  tt.match(status.out, /^node a \(cluster c1\)\s+seq 4\s+oldest 1\s+durability relaxed\n/)
  tt.match(status.out, /\nb\s+yes\s+0\s+0s\s+\+12ms\s+no\s+-\s+ws:\/\/127\.0\.0\.1:1/)
  tt.match(status.out, /\nc\s+no \(since 2m ago\)\s+3\s+\d+(ms|s)\s+-90000ms\s+SKEWED\s+SOCKET_ERROR \d+(ms|s) ago/)
  const statusJson = JSON.parse((await run('status', '--json')).out)
  tt.equal(statusJson.peers.length, 2)

  const purged = await run('purge')
  tt.equal(purged.out, 'purged 4 log entries; oldest seq now 5')
  tt.equal((await run('unread', '007')).out, '2 unread for 007\n  m1\n  m3')

  const bad = await run('mark', 'u', 'm', '--status', 'seen')
  tt.equal(bad.code, 2)
  tt.match(bad.err, /invalid value: --status "seen" is not one of "read", "unread", "deleted"\nusage: marksync mark <user> <messages\.\.> --status/)
})

t.test('choosing the node: --config/--node, env, token from the mesh file, usage errors', async tt => {
  const token = 'tok-' + 'x'.repeat(20)
  const { url } = await node(tt, token)
  const dir = await tempDir(tt)
  const port = Number(new URL(url).port)
  await writeFile(join(dir, 'secret'), 'a-cluster-secret-of-enough-bytes')
  await writeFile(join(dir, 'token'), token)
  const mesh = {
    cluster: 'c1',
    secret: { file: 'secret' },
    settings: { apiToken: { file: 'token' } },
    nodes: [{ id: 'a', peerUrl: 'ws://127.0.0.1:1', api: `0.0.0.0:${port}`, dataDir: 'a' }, { id: 'b', peerUrl: 'ws://127.0.0.2:1', api: 2, dataDir: 'b' }]
  }
  const file = join(dir, 'mesh.json')
  await writeFile(file, JSON.stringify(mesh))
  const c1 = capture()
  tt.equal(await main(['unread', 'u', '--config', file, '--node', 'a'], c1.io), 0, c1.err.join('\n'))
  tt.same(c1.out, ['0 unread for u'])

  const cases: Array<[string[], number, RegExp]> = [
    [['unread', 'u', '--config', file], 2, /--config needs --node/],
    [['unread', 'u', '--config', file, '--node', 'zz'], 2, /no node "zz"/],
    [['unread', 'u', '--config', join(dir, 'missing.json'), '--node', 'a'], 2, /is invalid/],
    [['unread', 'u'], 2, /which node\?/],
    [['unread', 'u', '--api', 'ftp://x'], 2, /--api must be http:\/\/HOST:PORT or HOST:PORT/],
    [['unread', 'u', '--api', url], 1, /requires its API token: give --token.*TOKEN_MISSING/s],
    [['config'], 2, /config needs a subcommand/],
    [['mark', 'alice'], 2, /missing option --status\nusage: marksync mark/],
    [['status', '--api', 'http://127.0.0.1:9'], 1, /cannot reach the node .*UNREACHABLE/],
    [[], 2, /give a command/]
  ]
  for (const [args, code, re] of cases) {
    const c = capture()
    const saved = process.env.MARKSYNC_API
    delete process.env.MARKSYNC_API
    tt.equal(await main(args, c.io), code, args.join(' '))
    if (saved !== undefined) process.env.MARKSYNC_API = saved
    tt.match(c.err.join('\n'), re, args.join(' '))
  }
  const c2 = capture()
  tt.equal(await main(['unread', 'u', '--api', url, '--token', token], c2.io), 0)
  const c3 = capture()
  tt.equal(await main(['config', 'check', file, '--json'], c3.io), 0)
  tt.match(JSON.parse(c3.out.join('')), { ok: true, cluster: 'c1', nodes: ['a', 'b'], links: [['a', 'b']] })
  const c4 = capture()
  tt.equal(await main(['config', 'check', file, '--node', 'a'], c4.io), 0)
  tt.match(c4.out.join('\n'), /OK, cluster "c1", 2 nodes, 1 link\n  a: peer ws:\/\/127\.0\.0\.1:1, listen 127\.0\.0\.1:1, api 0\.0\.0\.0:\d+/)
  const c5 = capture()
  await writeFile(join(dir, 'bad.json'), JSON.stringify({ ...mesh, cluster: '' }))
  tt.equal(await main(['config', 'check', join(dir, 'bad.json'), '--json'], c5.io), 1)
  tt.match(JSON.parse(c5.out.join('')), { ok: false, problems: [{ path: 'cluster' }] })
})

t.test('format helpers', async tt => {
  tt.equal(table(['A', 'BB'], [['x', 'y'], ['long', '']]), 'A     BB\nx     y\nlong')
  tt.equal(isoTime(0), '1970-01-01T00:00:00.000Z')
  tt.equal(isoTime(null), '-')
  tt.equal(ago(null), '-')
  tt.equal(ago(1000, 1500), '500ms ago')
  tt.equal(ago(0, 90_000), '2m ago')
  tt.equal(ago(0, 2 * 3_600_000), '2h ago')
  tt.equal(signedMs(5), '+5ms')
  tt.equal(signedMs(-5.4), '-5ms')
  tt.equal(signedMs(null), '-')
})
