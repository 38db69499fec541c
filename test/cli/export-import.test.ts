import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { apiCall, runCli, startDaemon, writeMesh, type TestMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

/**
 * `marksync export` from one mesh and `marksync import` into another (real processes):
 * stamps and origins survive, and nothing newer on the target is overwritten.
 */
async function post (mesh: TestMesh, id: string, changes: unknown[]): Promise<void> {
  const res = await apiCall(mesh.nodes[id]?.api as string, 'POST', '/v1/changes', { body: { changes } })
  if (res.status !== 200) throw new Error(`POST /v1/changes: ${res.text}`)
}

async function winners (mesh: TestMesh, id: string): Promise<any[]> {
  const all: any[] = []
  let next: any = null
  do {
    const q = next === null ? '' : `&afterUser=${encodeURIComponent(next.user)}&afterMessage=${encodeURIComponent(next.message)}`
    const page = (await apiCall(mesh.nodes[id]?.api as string, 'GET', `/v1/winners?limit=1000${q}`)).body
    all.push(...page.winners)
    next = page.next
  } while (next !== null)
  return all.map(({ user, message, status, origin, ts }) => ({ user, message, status, origin, ts }))
}

async function seq (mesh: TestMesh, id: string): Promise<number> {
  return (await apiCall(mesh.nodes[id]?.api as string, 'GET', '/v1/status')).body.seq
}

const key = (w: any): string => `${w.user}\u0000${w.message}`

t.test('export from one mesh, import into another: stamps kept, newer kept, idempotent', async t => {
  const dir = await tempDir(t)
  const one = await writeMesh(join(dir, 'one'), { nodes: ['a', 'b'], cluster: 'one' })
  const two = await writeMesh(join(dir, 'two'), { nodes: ['x', 'y'], cluster: 'two' })
  // The target mesh adopts the source's history: its hosts are listed as retired (valid origins).
  await two.rewrite({ ...two.json, retired: ['a', 'b'] })
  await Promise.all([...one.ids.map(async id => await startDaemon(t, one, id, { readyTimeoutMs: 60_000 })), ...two.ids.map(async id => await startDaemon(t, two, id, { readyTimeoutMs: 60_000 }))])

  await post(two, 'x', [{ user: 'alice', message: 'm-old', status: 'unread' }])
  const users = ['alice', 'bob', 'carol', 'dåvid/ü']
  for (const user of users) await post(one, 'a', Array.from({ length: 700 }, (_, i) => ({ user, message: `m${i}`, status: i % 3 === 0 ? 'read' : 'unread' })))
  await post(one, 'b', [{ user: 'alice', message: 'm-old', status: 'read' }, { user: 'alice', message: 'm-new', status: 'read' }, { user: 'bob', message: 'm1', status: 'deleted' }])
  await waitFor(async () => await seq(one, 'a') === 2_803 && await seq(one, 'b') === 2_803, { what: 'mesh one converged', timeoutMs: 60_000 })
  await post(two, 'x', [{ user: 'alice', message: 'm-new', status: 'deleted' }])

  const file = join(dir, 'one.ndjson')
  const exported = await runCli(['export', '--api', one.nodes.a?.api as string, '--output', file])
  t.equal(exported.code, 0, exported.stderr)
  t.match(exported.stderr, /exported 2802 winners of node a/)
  const lines = (await readFile(file, 'utf8')).trim().split('\n')
  t.match(JSON.parse(lines[0] as string), { format: 'marksync-export', version: 1, node: 'a', cluster: 'one' })
  t.equal(lines.length, 2_803)
  t.match(JSON.parse(lines[1] as string), { user: 'alice', message: 'm-new', status: 'read', origin: 'b', ts: Number, originTime: Number, localTime: Number })
  const again = await runCli(['export', '--api', one.nodes.a?.api as string, '--output', file])
  t.equal(again.code, 1)
  t.match(again.stderr, /it exists; export never overwrites a file\) \(FILE_ERROR\)/)

  const imported = await runCli(['import', file, '--api', two.nodes.x?.api as string])
  t.equal(imported.code, 0, imported.stderr)
  t.equal(imported.stdout.trim(), `imported ${file}: 2802 changes, 2801 entered, 1 older than what the node has (kept its newer status), 0 already there`)

  const source = await winners(one, 'a')
  await waitFor(async () => JSON.stringify(await winners(two, 'y')) === JSON.stringify(await winners(two, 'x')), { what: 'mesh two converged', timeoutMs: 60_000 })
  const target = new Map((await winners(two, 'y')).map(w => [key(w), w]))
  t.equal(target.size, 2_802)
  for (const w of source) {
    if (w.message === 'm-new' && w.user === 'alice') continue
    if (JSON.stringify(target.get(key(w))) !== JSON.stringify(w)) t.fail(`${key(w)} differs: ${JSON.stringify(target.get(key(w)))} vs ${JSON.stringify(w)}`)
  }
  t.match(target.get('alice\u0000m-old'), { status: 'read', origin: 'b' }, 'the older status on the target was replaced')
  t.match(target.get('alice\u0000m-new'), { status: 'deleted', origin: 'x' }, 'the newer status on the target was kept')

  const twice = await runCli(['import', file, '--api', two.nodes.x?.api as string, '--json'])
  t.same(JSON.parse(twice.stdout), { changes: 2_802, entered: 0, stale: 1, duplicate: 2_801 }, 'a second import changes nothing')
})

t.test('import refuses a bad file before sending anything', async t => {
  const dir = await tempDir(t)
  const mesh = await writeMesh(dir, { nodes: ['x'] })
  await startDaemon(t, mesh, 'x', { readyTimeoutMs: 60_000 })
  const api = ['--api', mesh.nodes.x?.api as string]
  const header = JSON.stringify({ format: 'marksync-export', version: 1, node: 'a', cluster: 'c', exportedAt: 1 })
  const good = JSON.stringify({ user: 'u', message: 'm', status: 'read', origin: 'a', ts: 1_800_000_000_000 })
  const cases: Array<[string, string, RegExp]> = [
    ['bad-line', [header, good, '{"user":"u","message":"m2","status":"maybe","origin":"a","ts":1}'].join('\n'), /line 3: status must be one of read, unread, deleted \(INVALID_STATUS\)/],
    ['not-json', [header, good, '{oops'].join('\n'), /line 3: not JSON/],
    ['no-header', [good].join('\n'), /line 1: not a marksync export/],
    ['version', [header.replace('"version":1', '"version":9'), good].join('\n'), /export format version 9/],
    ['long-line', [header, 'x'.repeat(10_000)].join('\n'), /line 2: longer than 8192 bytes/],
    ['empty', '', /is empty/]
  ]
  for (const [name, text, expected] of cases) {
    const file = join(dir, `${name}.ndjson`)
    await writeFile(file, text)
    const res = await runCli(['import', file, ...api])
    t.equal(res.code, 1, name)
    t.match(res.stderr, expected, name)
  }
  const missing = await runCli(['import', join(dir, 'nope.ndjson'), ...api])
  t.match(missing.stderr, /cannot read .*nope.ndjson \(ENOENT\)/)
  t.equal((await apiCall(mesh.nodes.x?.api as string, 'GET', '/v1/status')).body.seq, 0, 'nothing was applied')
  const future = await apiCall(mesh.nodes.x?.api as string, 'POST', '/v1/import', { body: { changes: [{ user: 'u', message: 'm', status: 'read', origin: 'a', ts: (Date.now() + 3_600_000) * 1024 }] } })
  t.equal(future.status, 400)
  t.equal(future.body.error.code, 'CLOCK_SKEW', 'a change stamped in the future is refused')
})
