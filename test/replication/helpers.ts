/**
 * Nodes for replication tests: in-process nodes (test/helpers/node.ts) with a Replicator
 * on 127.0.0.1, wired into a topology. Ports are picked with freePort (peers must know
 * them in advance) and retried if taken meanwhile.
 */
import type { Store } from '../../src/store/index.js'
import type { Replicator } from '../../src/replication/index.js'
import type { ReplicatorOptions } from '../../src/replication/api.js'
import type { MessageState } from '../../src/types.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openNode } from '../helpers/node.js'
import { freePort } from '../helpers/tmp.js'
import type { Teardown } from '../helpers/teardown.js'

export { TEST_CLUSTER as CLUSTER, TEST_SECRET as SECRET } from '../helpers/node.js'

export interface TestNode {
  id: string
  dir: string
  port: number
  store: Store
  repl: Replicator
  /** Offset added to the real clock, ms; change it to skew this node. */
  skew: { ms: number }
  stop: () => Promise<void>
  /** Start again on the same directory and port. */
  restart: () => Promise<void>
  opts: Partial<ReplicatorOptions>
}

export interface NodeSpec {
  id: string
  peers: string[]
  opts?: Partial<ReplicatorOptions>
  retentionMs?: number
  maxClockSkewMs?: number
  skewMs?: number
}

const FAST: Partial<ReplicatorOptions> = { heartbeatMs: 100, handshakeTimeoutMs: 2_000 }

export async function startNodes (t: Teardown, specs: NodeSpec[]): Promise<Map<string, TestNode>> {
  const ports = new Map<string, number>()
  for (const s of specs) ports.set(s.id, await freePort())
  const nodes = new Map<string, TestNode>()
  for (const spec of specs) {
    const dir = await mkdtemp(join(tmpdir(), `marksync-repl-${spec.id}-`))
    const skew = { ms: spec.skewMs ?? 0 }
    const node: TestNode = {
      id: spec.id,
      dir,
      port: ports.get(spec.id) as number,
      skew,
      opts: spec.opts ?? {},
      store: undefined as unknown as Store,
      repl: undefined as unknown as Replicator,
      stop: async () => {},
      restart: async () => {
        for (let attempt = 0; ; attempt++) {
          const peers = spec.peers.map(id => ({ id, url: `${spec.opts?.tls !== undefined ? 'wss' : 'ws'}://127.0.0.1:${ports.get(id) ?? 1}` }))
          try {
            const opened = await openNode({
              id: spec.id,
              dir,
              store: { retentionMs: spec.retentionMs, maxClockSkewMs: spec.maxClockSkewMs, wallClock: () => Date.now() + skew.ms },
              replication: { listen: { host: '127.0.0.1', port: node.port }, peers, maxClockSkewMs: spec.maxClockSkewMs, ...FAST, ...spec.opts }
            })
            node.store = opened.store
            node.repl = opened.repl as Replicator
            node.stop = opened.stop
            return
          } catch (err) {
            if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt > 5) throw err
            node.port = await freePort()
            ports.set(spec.id, node.port)
          }
        }
      }
    }
    await node.restart()
    // Stop before the directory goes: tap runs teardowns in the order they were added.
    t.teardown(async () => {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    })
    nodes.set(spec.id, node)
  }
  return nodes
}

/** Every pair connected: full mesh. */
export function fullMesh (ids: string[], opts?: Partial<ReplicatorOptions>): NodeSpec[] {
  return ids.map(id => ({ id, peers: ids.filter(p => p !== id), opts }))
}

/** Links given as pairs. */
export function topology (ids: string[], pairs: Array<[string, string]>, opts?: Partial<ReplicatorOptions>): NodeSpec[] {
  return ids.map(id => ({
    id,
    peers: pairs.filter(p => p.includes(id)).map(p => p[0] === id ? p[1] : p[0]),
    opts
  }))
}

export async function winners (store: Store): Promise<Array<Omit<MessageState, 'localTime' | 'seq'>>> {
  const out = []
  for await (const w of store.winners()) out.push({ user: w.user, message: w.message, status: w.status, origin: w.origin, ts: w.ts, originTime: w.originTime })
  return out
}

export async function unreadTable (store: Store, users: string[]): Promise<Record<string, { count: number, ids: string[] }>> {
  const out: Record<string, { count: number, ids: string[] }> = {}
  for (const u of users) out[u] = { count: await store.unreadCount(u), ids: await store.unread(u) }
  return out
}

export function connected (node: TestNode, peer: string): boolean {
  return node.repl.status().find(p => p.id === peer)?.connected ?? false
}
