import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, runCli, startDaemon, writeMesh, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import type { StatusBody as NodeStatusResponse } from '../../src/cli/commands/status.js'

/**
 * `marksync status` tells the truth on real processes: lag in time that stays 0 on a
 * healthy idle link and grows while a peer is away, the reason a peer is down, this
 * node's own wrong clock named as the outlier (its healthy peers not SKEWED), exit 1
 * with every peer down; `status --check` gives the matching Nagios line and code.
 */
async function nodeStatus (mesh: TestMesh, id: string): Promise<NodeStatusResponse> {
  return (await apiCall<NodeStatusResponse>(mesh.nodes[id]?.api ?? '', 'GET', '/v1/status')).body
}

t.test('lag in time, the reason a peer is down, exit codes of status and status --check', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'], settings: { heartbeat: '200ms' } })
  // c has another secret: a and c refuse each other in the handshake.
  await writeFile(join(dir, 'other.secret'), 'another-secret-0123456789abcdef012\n', { mode: 0o600 })
  const other = { ...mesh, file: join(dir, 'mesh-c.json') }
  await writeFile(other.file, JSON.stringify({ ...mesh.json, secret: { file: 'other.secret' } }))
  const [a, b] = [await startDaemon(tt, mesh, 'a'), await startDaemon(tt, mesh, 'b')]
  await startDaemon(tt, other, 'c')
  const on = ['--api', mesh.nodes.a?.api ?? '']
  await waitFor(async () => {
    const s = await nodeStatus(mesh, 'a')
    return s.peers.find(p => p.id === 'b')?.connected === true && /AUTH_FAILED$/.test(s.peers.find(p => p.id === 'c')?.lastError?.code ?? '')
  }, { timeoutMs: 30_000, what: 'b connected and c refused' })

  await runCli(['mark', 'alice', 'm1', '--status', 'unread', ...on])
  await waitFor(async () => (await nodeStatus(mesh, 'a')).peers.find(p => p.id === 'b')?.behind === 0, { timeoutMs: 20_000, what: 'b to ack' })
  const idleSince = Date.now()
  await waitFor(() => Date.now() - idleSince > 1_500 || undefined, { timeoutMs: 5_000 })
  const idle = await runCli(['status', ...on])
  tt.equal(idle.code, 0, 'some peer is up: exit 0')
  tt.match(idle.stdout, /PEER\s+CONNECTED\s+BEHIND\s+LAG\s+CLOCK OFFSET\s+SKEWED\s+LAST ERROR\s+URL/)
  tt.match(idle.stdout, /\nb\s+yes\s+0\s+0s\s+/, 'a healthy idle link has no lag, however long ago its last ack')
  tt.match(idle.stdout, /\nc\s+no[^\n]*(PEER_)?AUTH_FAILED \d+(ms|s) ago/, 'c shows why it is down')
  tt.match(idle.stdout, /\nc is down: (PEER_)?AUTH_FAILED: /)

  await b.kill()
  await runCli(['mark', 'alice', 'm2', '--status', 'unread', ...on])
  await waitFor(async () => ((await nodeStatus(mesh, 'a')).peers.find(p => p.id === 'b')?.lagMs ?? 0) >= 1_500, { timeoutMs: 20_000, what: 'b\'s lag in time to grow' })
  const away = await runCli(['status', ...on])
  tt.equal(away.code, 1, 'every peer down: exit 1')
  tt.match(away.stdout, /\nb\s+no \(since [^)]+\)\s+1\s+\ds\s+/, 'b: 1 entry and seconds behind')
  tt.match(away.stdout, /every peer is down/)
  const check = await runCli(['status', '--check', ...on])
  tt.equal(check.code, 2, 'every peer down is CRITICAL')
  tt.match(check.stdout, /^MARKSYNC CRITICAL - node a: 2 peers down \(b: [A-Z_]+, c: (PEER_)?AUTH_FAILED\)/)
  tt.match(check.stdout, /\| peers=2 connected=0 lag_seconds=\d+\.\d skewed=0 clock_correction_ms=0\n$/)
  const warn = await runCli(['status', '--check', '--crit-disconnected', '3', '--warn-lag', '1s', ...on])
  tt.equal(warn.code, 1, warn.stdout)
  tt.match(warn.stdout, /^MARKSYNC WARNING - node a: 2 peers down .*; lag \d+s \([bc]\)/)
  tt.equal(a.running, true)
  const bad = await runCli(['status', '--check', '--warn-lag', 'soon', ...on])
  tt.equal(bad.code, 2)
  tt.match(bad.stderr, /--warn-lag must be a duration such as 90s or 10m, got "soon"/)
})

t.test('a node whose own clock is off names itself, not its healthy peers', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'], settings: { heartbeat: '200ms', maxClockSkew: '30s' } })
  const clock = join(dir, 'a.clock')
  await writeFile(clock, '120000')
  const a = await startDaemon(tt, mesh, 'a', { clockOffsetFile: clock })
  await startDaemon(tt, mesh, 'b')
  await startDaemon(tt, mesh, 'c')
  await waitFor(async () => {
    const s = await nodeStatus(mesh, 'a')
    return s.clockCorrectionMs < -100_000 && s.peers.every(p => p.connected && !p.skewed)
  }, { timeoutMs: 30_000, what: 'a to correct its clock and judge its peers by it' })
  const own = await runCli(['status', '--api', mesh.nodes.a?.api ?? ''])
  tt.equal(own.code, 0)
  tt.match(own.stdout, /THIS NODE'S CLOCK is 2m 0s ahead of its peers, which agree with each other: fix this host's time/)
  tt.notMatch(own.stdout, /\n[bc] [^\n]*SKEWED/, 'b and c are healthy')
  const check = await runCli(['status', '--check', '--api', mesh.nodes.a?.api ?? ''])
  tt.equal(check.code, 1)
  tt.match(check.stdout, /^MARKSYNC WARNING - node a: this node's clock is off by 2m 0s \(its peers agree\)/)
  const fromB = await runCli(['status', '--api', mesh.nodes.b?.api ?? ''])
  tt.match(fromB.stdout, /\na\s+yes[^\n]*SKEWED/, 'b sees a as the skewed one')
  tt.notMatch(fromB.stdout, /THIS NODE'S CLOCK/)
  // Both ends dial at once here; a session replacing another is not a second connection.
  for (const peer of ['b', 'c']) {
    const events = a.logs.filter(l => l.peer === peer && (l.event === 'peer-connected' || l.event === 'peer-disconnected')).map(l => l.event)
    tt.equal(events.filter(e => e === 'peer-connected').length, events.filter(e => e === 'peer-disconnected').length + 1, `${peer}: peer-connected once per connection (${events.join(', ')})`)
  }
})
