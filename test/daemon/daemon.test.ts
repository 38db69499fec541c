import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Daemon } from '../../src/daemon/daemon.js'
import { runDaemon } from '../../src/daemon/run.js'
import { EXIT } from '../../src/daemon/exit-codes.js'
import { readOffset, wallClockFromEnv, TEST_CLOCK_ENV } from '../../src/daemon/test-clock.js'
import { Purger } from '../../src/daemon/purger.js'
import { loadNodeConfig } from '../../src/config/load.js'
import { createLogger } from '../../src/log.js'
import { Store } from '../../src/store/index.js'
import { TEST_CLOCK_REREAD_MS } from '../../src/limits.js'
import { apiCall, writeMesh, type LogLine } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

function memoryLogger (nodeId: string): { logger: ReturnType<typeof createLogger>, lines: LogLine[] } {
  const lines: LogLine[] = []
  const destination = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine)
      done()
    }
  })
  return { logger: createLogger({ nodeId, destination, level: 'debug' }), lines }
}

t.test('a node in-process without replication: API, scheduled purge, clean stop', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'], settings: { purgeInterval: '100ms', retention: '1ms' } })
  const config = loadNodeConfig(mesh.file, 'a')
  const { logger, lines } = memoryLogger('a')
  const daemon = new Daemon({ config, logger })
  await daemon.start()
  tt.teardown(async () => await daemon.stop())
  tt.equal(daemon.apiUrl, mesh.nodes.a?.api)
  tt.equal(daemon.peerPort, undefined)
  tt.match(lines.find(l => l.event === 'ready'), { node: 'a', api: mesh.nodes.a?.api, peerPort: null, replication: false })
  tt.ok(lines.some(l => l.event === 'replication-disabled'))
  const res = await apiCall(daemon.apiUrl ?? '', 'POST', '/v1/changes', { body: { user: 'u', message: 'm', status: 'unread' } })
  tt.equal(res.status, 200)
  await waitFor(() => lines.some(l => l.event === 'purge' && l.trigger === 'schedule' && l.removed === 1), { timeoutMs: 10_000 })
  const manual = await apiCall(daemon.apiUrl ?? '', 'POST', '/v1/purge')
  tt.same(manual.body, { removed: 0, oldestSeq: 2 })
  tt.ok(lines.some(l => l.event === 'purge' && l.trigger === 'api'))
  const metrics = await apiCall(daemon.apiUrl ?? '', 'GET', '/metrics')
  tt.match(metrics.text, /marksync_purged_entries_total 1/)
  tt.match(metrics.text, /marksync_changes_entered_total\{source="local"\} 1/)
  tt.match(metrics.text, /marksync_peers_connected 0/)
  tt.same((await apiCall(daemon.apiUrl ?? '', 'GET', '/v1/users/u/unread')).body.messages, ['m'], 'winners survive the purge')
  await daemon.stop('test')
  await daemon.stop('again')
  tt.equal(lines.filter(l => l.event === 'stopped').length, 1, 'stop is idempotent')
  tt.equal(daemon.store?.lastSeq, 1)
})

t.test('a failed start (API port taken) releases the data directory', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a'] })
  const first = new Daemon({ config: loadNodeConfig(mesh.file, 'a'), logger: memoryLogger('a').logger })
  await first.start()
  tt.teardown(async () => await first.stop())
  const json = structuredClone(mesh.json) as any
  json.nodes[0].dataDir = 'data/other'
  await mesh.rewrite(json)
  const errors: string[] = []
  const code = await runDaemon({ configFile: mesh.file, nodeId: 'a', env: {}, errorOut: l => errors.push(l), logger: memoryLogger('a').logger })
  tt.equal(code, EXIT.FAILURE)
  tt.match(errors.join('\n'), /the API address 127\.0\.0\.1:\d+ of node a is already in use.*EADDRINUSE/)
  // The store of the failed start was closed: it opens again at once.
  const store = new Store({ location: join(dir, 'data', 'other'), nodeId: 'a' })
  await store.open()
  await store.close()
})

t.test('runDaemon: exit codes for bad config, locked and foreign data dirs; signals stop it', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b'] })
  const errors: string[] = []
  const run = async (nodeId: string): Promise<number> => await runDaemon({ configFile: mesh.file, nodeId, env: {}, errorOut: l => errors.push(l), logger: memoryLogger(nodeId).logger })

  tt.equal(await run('nope'), EXIT.USAGE)
  tt.match(errors.pop(), /invalid configuration [^]*no node "nope"/)

  const holder = new Store({ location: mesh.nodes.a?.dataDir ?? '', nodeId: 'a' })
  await holder.open()
  tt.equal(await run('a'), EXIT.LOCKED)
  tt.match(errors.pop(), /data directory .*data\/a is locked/)
  await holder.close()

  const foreign = new Store({ location: mesh.nodes.b?.dataDir ?? '', nodeId: 'someone-else' })
  await foreign.open()
  await foreign.close()
  tt.equal(await run('b'), EXIT.DATA_DIR_MISMATCH)
  tt.match(errors.pop(), /NODE_ID_MISMATCH/)

  const { logger, lines } = memoryLogger('a')
  const running = runDaemon({ configFile: mesh.file, nodeId: 'a', env: {}, logger })
  await waitFor(() => lines.some(l => l.event === 'ready'), { timeoutMs: 10_000 })
  process.emit('SIGTERM', 'SIGTERM')
  tt.equal(await running, EXIT.OK)
  tt.match(lines.find(l => l.event === 'stopping'), { reason: 'SIGTERM' })
})

t.test('test-only clock offset file', async tt => {
  const dir = await tempDir(tt)
  const file = join(dir, 'offset')
  tt.equal(readOffset(file), 0, 'missing file')
  await writeFile(file, '')
  tt.equal(readOffset(file), 0, 'empty file')
  await writeFile(file, 'garbage')
  tt.equal(readOffset(file), 0, 'not a number')
  await writeFile(file, '120000\n')
  tt.equal(readOffset(file), 120_000)
  tt.equal(wallClockFromEnv({}).wallClock, Date.now)
  const { wallClock, testClockFile } = wallClockFromEnv({ [TEST_CLOCK_ENV]: file })
  tt.equal(testClockFile, file)
  tt.ok(Math.abs(wallClock() - Date.now() - 120_000) < 1000)
  await writeFile(file, '-5000')
  await waitFor(() => Math.abs(wallClock() - Date.now() + 5000) < 1000, { timeoutMs: TEST_CLOCK_REREAD_MS * 40, what: 'the new offset' })
})

t.test('purger: runs one at a time, stop waits, schedule off at 0', async tt => {
  let running = 0
  let max = 0
  let calls = 0
  const purger = new Purger({
    intervalMs: 0,
    purge: async () => {
      running++
      max = Math.max(max, running)
      calls++
      await new Promise(resolve => setTimeout(resolve, 5))
      running--
      return { removed: calls, oldestSeq: 1 }
    }
  })
  purger.start()
  const results = await Promise.all([purger.run('api'), purger.run('api'), purger.run('api')])
  tt.same(results.map(r => r.removed), [1, 2, 3])
  tt.equal(max, 1)
  await purger.stop()
  await purger.stop()
  const failing = new Purger({ intervalMs: 0, purge: async () => { throw new Error('disk') } })
  await tt.rejects(failing.run('api'), /disk/)
  tt.same(await Promise.all([failing.run('api').catch(() => 'x')]), ['x'], 'a failure does not block the next purge')
})
