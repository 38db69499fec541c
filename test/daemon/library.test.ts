import t from 'tap'
import { join } from 'node:path'
import { Store, Replicator, Daemon, loadNodeConfig, createLogger, MarksyncError } from '../../src/index.js'
import { freePort, tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { writeMesh } from '../helpers/daemon.js'
import { Writable } from 'node:stream'

// The example of docs/operations.md "Using marksync as a library", on loopback with two nodes.
t.test('the library example: two in-process nodes replicate', async tt => {
  const dir = await tempDir(tt)
  const secret = Buffer.from('library-example-secret-0123456789')
  const ports = { mx1: await freePort(), mx2: await freePort() }
  const nodes = await Promise.all((['mx1', 'mx2'] as const).map(async nodeId => {
    const other = nodeId === 'mx1' ? 'mx2' : 'mx1'
    const store = new Store({ location: join(dir, nodeId), nodeId, durability: 'sync' })
    await store.open()
    const replicator = new Replicator({
      store, cluster: 'mail-eu', nodeId, secret, heartbeatMs: 200,
      listen: { host: '127.0.0.1', port: ports[nodeId] },
      peers: [{ id: other, url: `ws://127.0.0.1:${ports[other]}` }]
    })
    await replicator.start()
    return { store, replicator }
  }))
  tt.teardown(async () => {
    for (const { replicator, store } of nodes) {
      await replicator.stop()
      await store.close()
    }
  })
  const [mx1, mx2] = nodes as [typeof nodes[0], typeof nodes[0]]
  const entered = await mx1.store.mark([{ user: 'alice', message: '<id@host>', status: 'unread' }])
  tt.equal(entered.length, 1)
  await waitFor(async () => (await mx2.store.unreadCount('alice')) === 1, { timeoutMs: 15_000 })
  tt.same(await mx2.store.unread('alice', { limit: 100 }), ['<id@host>'])
  await tt.rejects(mx1.store.mark([{ user: '', message: 'm', status: 'read' }]), MarksyncError)
})

t.test('the library Daemon from a mesh file', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a'] })
  const quiet = new Writable({ write (_c, _e, done) { done() } })
  const daemon = new Daemon({ config: loadNodeConfig(mesh.file, 'a'), logger: createLogger({ nodeId: 'a', destination: quiet }), createReplicator: o => new Replicator(o) })
  await daemon.start()
  tt.teardown(async () => await daemon.stop())
  tt.equal(daemon.peerPort, mesh.nodes.a?.peerPort)
  await daemon.store?.mark([{ user: 'u', message: 'm', status: 'read' }])
  tt.match(await daemon.store?.get('u', 'm'), { status: 'read', origin: 'a' })
})
