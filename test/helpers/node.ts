/**
 * One marksync node inside the test process: a Store on disk, and as asked a Replicator
 * on 127.0.0.1 and the HTTP API on port 0, wired as the daemon wires them. The unit,
 * API and replication tests and the benchmark's node process run nodes through here;
 * a node as a real `marksync` process is `startDaemon` (test/helpers/daemon.ts), which
 * the daemon, CLI and chaos tests use.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiServer, type ApiServerOptions } from '../../src/api/server.js'
import type { ApiBackend } from '../../src/api/routes.js'
import { Replicator } from '../../src/replication/index.js'
import type { ReplicatorOptions } from '../../src/replication/api.js'
import { Store, type StoreOptions } from '../../src/store/index.js'
import type { Teardown } from './teardown.js'

export const TEST_CLUSTER = 'test'
export const TEST_SECRET = Buffer.from('correct horse battery staple')

export interface NodeOptions {
  id: string
  /** The data directory; a fresh temp dir (removed at teardown) when a test gives none. */
  dir?: string
  /** Store options beyond location and id (durability defaults to `relaxed`). */
  store?: Partial<StoreOptions>
  /** Starts a Replicator; cluster and secret default to TEST_CLUSTER and TEST_SECRET. */
  replication?: Partial<ReplicatorOptions> & Pick<ReplicatorOptions, 'listen' | 'peers'>
  /** Serves the HTTP API on 127.0.0.1, port 0; the backend's parts default to this node's. */
  api?: Partial<Omit<ApiServerOptions, 'backend'>> & { backend?: Partial<ApiBackend> }
  /** Called once the store is open and the replicator made, before it starts (to listen to events from the first). */
  beforeStart?: (parts: { store: Store, repl: Replicator | undefined }) => void
}

export interface InProcessNode {
  id: string
  dir: string
  store: Store
  repl: Replicator | undefined
  api: ApiServer | undefined
  /** The API's base URL ('' without an API). */
  url: string
  /** Stops the API, the replicator and the store, in that order (as the daemon does). Idempotent. */
  stop: () => Promise<void>
}

/** Opens a node; the caller stops it (a script), or use `startNode` in a test. */
export async function openNode (options: NodeOptions & { dir: string }): Promise<InProcessNode> {
  const store = new Store({ durability: 'relaxed', ...options.store, location: options.dir, nodeId: options.id })
  await store.open()
  let repl: Replicator | undefined
  let api: ApiServer | undefined
  const stop = async (): Promise<void> => {
    await api?.stop()
    await repl?.stop()
    await store.close()
  }
  try {
    if (options.replication !== undefined) {
      repl = new Replicator({ cluster: TEST_CLUSTER, secret: TEST_SECRET, ...options.replication, store, nodeId: options.id })
    }
    options.beforeStart?.({ store, repl })
    await repl?.start()
    if (options.api !== undefined) {
      api = new ApiServer({ host: '127.0.0.1', port: 0, ...options.api, backend: backendOf(store, repl, options.api.backend) })
      await api.start()
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { id: options.id, dir: options.dir, store, repl, api, url: api?.url ?? '', stop }
}

/** A node stopped when the test ends (its temp dir, if it made one, removed after). */
export async function startNode (t: Teardown, options: NodeOptions): Promise<InProcessNode> {
  const dir = options.dir ?? await mkdtemp(join(tmpdir(), `marksync-${options.id}-`))
  const node = await openNode({ ...options, dir })
  // One teardown, so the node stops before its directory goes.
  t.teardown(async () => {
    await node.stop()
    if (options.dir === undefined) await rm(dir, { recursive: true, force: true })
  })
  return node
}

function backendOf (store: Store, repl: Replicator | undefined, given: Partial<ApiBackend> = {}): ApiBackend {
  return {
    store,
    cluster: TEST_CLUSTER,
    retentionMs: 60_000,
    peers: () => repl?.status() ?? [],
    purge: async () => await store.purge(Date.now() + 1),
    ...given
  }
}
