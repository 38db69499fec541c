/**
 * The clock check at start (docs/protocol.md "Clock check at start"), with real
 * `marksync` processes: a node restarted with its clock far ahead stamps no local change
 * before its peers gave their verdict on its clock, so its first change cannot beat a
 * later honest one; a node none of whose peers answers writes after the documented
 * timeout; a node alone in its mesh never waits.
 */
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { physicalMs } from '../../src/hlc.js'
import { CLOCK_CHECK_TIMEOUT_MS } from '../../src/limits.js'
import { LinkProxy } from '../chaos/proxy.js'
import { apiCall, startDaemon, writeMesh, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { winner, SLOW_START } from './helpers.js'

const AHEAD_MS = 10 * 60_000
/** One-way delay on a's links: its handshakes take a few round trips of it (heartbeat 1 s tolerates it). */
const LINK_DELAY_MS = 250
const MAX_CLOCK_SKEW_MS = 60_000

/** A delaying proxy in front of node `id`'s peer port; its URL. */
async function slowUrl (tt: { teardown: (fn: () => unknown) => void }, mesh: TestMesh, id: string): Promise<string> {
  const proxy = new LinkProxy({ target: { host: '127.0.0.1', port: mesh.nodes[id].peerPort }, delayMs: LINK_DELAY_MS })
  await proxy.start()
  tt.teardown(async () => await proxy.stop())
  return `ws://127.0.0.1:${proxy.port}`
}

t.test('a node restarted with its clock 10 minutes ahead stamps its first change by its peers\' clock', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'], settings: { heartbeat: '1s' } })
  // a's links are slow, so its first sessions come up well after it is ready.
  await mesh.rewrite({
    ...mesh.json,
    links: [
      { nodes: ['a', 'b'], urls: { a: await slowUrl(tt, mesh, 'a'), b: await slowUrl(tt, mesh, 'b') } },
      { nodes: ['a', 'c'], urls: { a: await slowUrl(tt, mesh, 'a'), c: await slowUrl(tt, mesh, 'c') } },
      ['b', 'c']
    ]
  })
  for (const id of ['b', 'c']) await startDaemon(tt, mesh, id, SLOW_START)
  const clockFile = join(dir, 'a.clock-offset')
  await writeFile(clockFile, String(AHEAD_MS))
  const a = await startDaemon(tt, mesh, 'a', { ...SLOW_START, clockOffsetFile: clockFile })

  // Right after "ready", before any session of a is up: the write waits for the verdict.
  const first = await apiCall(mesh.nodes.a.api, 'POST', '/v1/changes', { body: { user: 'alice', message: 'm1', status: 'read' }, timeoutMs: 30_000 })
  tt.equal(first.status, 200, 'the write is answered')
  const lead = physicalMs(first.body.entries[0].ts) - Date.now()
  tt.ok(lead < MAX_CLOCK_SKEW_MS, `a stamped it ${lead} ms ahead of real time, not ${AHEAD_MS}`)
  const checked = await a.waitForLog(line => line.event === 'clock-checked' || line.event === 'clock-unchecked')
  tt.equal(checked.event, 'clock-checked', 'the peers gave their verdict')
  tt.ok((await apiCall(mesh.nodes.a.api, 'GET', '/v1/status')).body.clockCorrectionMs < -AHEAD_MS + MAX_CLOCK_SKEW_MS, 'a corrects its stamps by its peers\' offsets')

  // A later honest change elsewhere wins everywhere, a included.
  const later = await apiCall(mesh.nodes.b.api, 'POST', '/v1/changes', { body: { user: 'alice', message: 'm1', status: 'unread' } })
  tt.equal(later.status, 200)
  for (const id of ['a', 'b', 'c']) {
    await waitFor(async () => (await winner(mesh.nodes[id].api, 'alice', 'm1'))?.origin === 'b', { timeoutMs: 30_000, what: `b's change winning on ${id}` })
  }
  tt.pass('the later change from b is the winner on a, b and c')
})

t.test('a node whose peers are all down writes after the clock check timeout', async tt => {
  const mesh = await writeMesh(await tempDir(tt), { nodes: ['a', 'b'] })
  const a = await startDaemon(tt, mesh, 'a', SLOW_START)
  const r = await apiCall(mesh.nodes.a.api, 'POST', '/v1/changes', { body: { user: 'alice', message: 'm1', status: 'read' }, timeoutMs: 30_000 })
  tt.equal(r.status, 200, 'the write is answered')
  const line = await a.waitForLog(l => l.event === 'clock-unchecked', 1_000)
  tt.ok((line.waitedMs as number) >= CLOCK_CHECK_TIMEOUT_MS - 50, `it waited the timeout (${String(line.waitedMs)} ms) before writing on its own clock`)
})

t.test('a node alone in its mesh never waits for a clock check', async tt => {
  const mesh = await writeMesh(await tempDir(tt), { nodes: ['solo'] })
  const solo = await startDaemon(tt, mesh, 'solo', SLOW_START)
  const r = await apiCall(mesh.nodes.solo.api, 'POST', '/v1/changes', { body: { user: 'alice', message: 'm1', status: 'read' } })
  tt.equal(r.status, 200)
  tt.notOk(solo.logs.some(l => l.event === 'clock-checked' || l.event === 'clock-unchecked'), 'no clock check: the write went ahead at once')
})
