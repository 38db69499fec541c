import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, runCli, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

/**
 * "Why is this message unread again?" on real processes: b's clock runs 20 s ahead; a
 * marks a message read while b is down, b marks it unread while a is down. When they
 * meet, b's unread wins on both; explain shows it on a (entered from b, its origin 20 s
 * ahead) and on b (a's read discarded, and why).
 */
const SKEW_MS = 20_000

t.test('explain shows entered and discarded changes with origin, clocks, peer and why', async t => {
  const dir = await tempDir(t)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'] })
  const clockOffsetFile = join(dir, 'b.offset')
  await writeFile(clockOffsetFile, String(SKEW_MS))
  const api = (id: string): string[] => ['--api', mesh.nodes[id]?.api as string]
  const ready = { readyTimeoutMs: 60_000 }

  const a1 = await startDaemon(t, mesh, 'a', ready)
  t.equal((await runCli(['mark', 'alice', 'm1', '--status', 'read', ...api('a')])).code, 0)
  await a1.stop()
  const b1 = await startDaemon(t, mesh, 'b', { ...ready, clockOffsetFile })
  t.equal((await runCli(['mark', 'alice', 'm1', '--status', 'unread', ...api('b')])).code, 0)
  await b1.stop()
  await Promise.all([startDaemon(t, mesh, 'a', ready), startDaemon(t, mesh, 'b', { ...ready, clockOffsetFile })])

  const history = async (id: string): Promise<any> => (await apiCall(mesh.nodes[id]?.api as string, 'GET', '/v1/users/alice/messages/m1/history')).body
  await waitFor(async () => (await history('a')).changes.length === 2 && (await history('b')).changes.length === 2, { what: 'both nodes saw both changes', timeoutMs: 60_000 })

  const onA = await runCli(['explain', 'alice', 'm1', ...api('a'), '--json'])
  t.equal(onA.code, 0, onA.stderr)
  const a = JSON.parse(onA.stdout)
  t.match(a.current, { status: 'unread', origin: 'b' })
  t.match(a.changes[0], { outcome: 'entered', status: 'read', origin: 'a', from: null, originOffsetMs: 0 })
  t.match(a.changes[1], { outcome: 'entered', status: 'unread', origin: 'b', from: 'b', why: /^entered: beat the read of a \(seq 1\) with a timestamp \d+ ms later; the current status$/ })
  t.ok(a.changes[1].originOffsetMs > SKEW_MS - 5_000 && a.changes[1].originOffsetMs <= SKEW_MS + 1_000, `b's clock measured ${a.changes[1].originOffsetMs as number} ms ahead`)
  t.ok(a.changes[1].apparentOffsetMs < a.changes[1].originOffsetMs, 'the change waited: its own times understate the offset')

  const b = (await history('b')).changes
  t.match(b[0], { outcome: 'entered', status: 'unread', origin: 'b', from: null })
  t.match(b[1], { outcome: 'discarded', status: 'read', origin: 'a', from: 'a', seq: null, why: /^discarded: lost to the winner then, from b \(ts \d+\), which has a timestamp \d+ ms later$/ })
  t.ok(b[1].originOffsetMs < -(SKEW_MS - 5_000) && b[1].originOffsetMs >= -SKEW_MS - 1_000, `a's clock shows ${b[1].originOffsetMs as number} ms behind b's`)

  const human = await runCli(['explain', 'alice', 'm1', ...api('b')])
  t.match(human.stdout, /^alice m1: unread now \(origin b, seq 1\)\nLOCAL TIME +OUTCOME +STATUS +ORIGIN +ORIGIN TIME +ORIGIN OFFSET +FROM +SEQ +WHY\n.*entered +unread +b .*\n.*discarded +read +a .* a +- +discarded: lost/)
  const unknown = await runCli(['explain', 'alice', 'nope', ...api('a')])
  t.equal(unknown.code, 0)
  t.match(unknown.stdout, /^alice nope: no status known here\n/)
  const bad = await runCli(['explain', 'alice', ...api('a')])
  t.equal(bad.code, 2, 'a missing message id is a usage error')
})
