/**
 * Goal 3 of issue 11: bytes each node receives per change in a full mesh, against a
 * single copy. Every node of a full mesh of n (one process each) makes changes at the
 * same time; once every node entered everyone else's and every peer acknowledged every
 * feed, the bytes each node received (all frames: batches, acks, heartbeats) are divided
 * by the changes it had to receive. A single copy is the same figure for a mesh of 2,
 * measured first in the same run: there each change can only arrive once.
 */
import { join } from 'node:path'
import { freePort } from '../helpers/tmp.js'
import { NodeProc } from './node-proc.js'

/** Changes each node makes per mesh, at RATE_PER_NODE changes/s. */
const PER_NODE = 2_000
const RATE_PER_NODE = 1_000
const ID_CHARS = 16
/** Longest wait for a mesh to settle, in ms. */
const SETTLE_MS = 300_000

export interface MeshBytesRow {
  nodes: number
  changes: number
  bytes_received_per_change_per_node: number
  x_single_copy: number
}

interface PeerStats { bytesReceived: number }

/** Every pair of `names`: the links of a full mesh, as the mesh file lists them. */
export function fullMeshLinks (names: readonly string[]): Array<[string, string]> {
  return names.flatMap((a, i) => names.slice(i + 1).map(b => [a, b] as [string, string]))
}

async function startMesh (root: string, n: number): Promise<NodeProc[]> {
  const names = Array.from({ length: n }, (_, i) => `n${i}`)
  const ports = await Promise.all(names.map(async () => await freePort()))
  const procs = names.map(name => new NodeProc(name))
  await Promise.all(procs.map(async (p, i) => await p.call('open', {
    node: names[i],
    dir: join(root, `mesh${n}-${names[i]}`),
    durability: 'relaxed', // bytes do not depend on fsync; the machine has more important work
    port: ports[i],
    peers: names.flatMap((id, j) => j === i ? [] : [{ id, url: `ws://127.0.0.1:${ports[j]}` }]),
    options: { links: fullMeshLinks(names) }
  })))
  for (const p of procs) await p.call('waitConnected')
  return procs
}

async function received (procs: NodeProc[]): Promise<number> {
  const stats = await Promise.all(procs.map(async p => await p.call('stats')))
  return stats.reduce((sum, s) => sum + (s.peers as PeerStats[]).reduce((n, peer) => n + peer.bytesReceived, 0), 0)
}

async function measureMesh (root: string, n: number): Promise<{ bytesPerChange: number, changes: number }> {
  const procs = await startMesh(root, n)
  try {
    const before = await received(procs)
    const seconds = PER_NODE / RATE_PER_NODE
    await Promise.all(procs.map(async (p, i) => await p.call('load', { rate: RATE_PER_NODE, seconds, idLen: ID_CHARS, prefix: `M${n}x${i}-` })))
    const expected = (n - 1) * PER_NODE
    for (const p of procs) {
      const r = await p.call('waitEntered', { count: expected, timeoutMs: SETTLE_MS })
      if (r.reached !== true) throw new Error(`${p.name} entered ${String(r.entered)} of ${expected}`)
    }
    for (const p of procs) if (!(await p.call<boolean>('drained', { timeoutMs: SETTLE_MS }))) throw new Error(`${p.name} did not drain`)
    const bytes = await received(procs) - before
    return { bytesPerChange: bytes / (n * expected), changes: n * PER_NODE }
  } finally {
    for (const p of procs) {
      await p.call('close').catch(() => {})
      await p.kill()
    }
  }
}

/** One row per mesh size, with its ratio to a single copy (the mesh of 2). */
export async function meshBytes (root: string, sizes: readonly number[]): Promise<MeshBytesRow[]> {
  const single = await measureMesh(root, 2)
  const rows: MeshBytesRow[] = []
  for (const n of [2, ...sizes]) {
    const m = n === 2 ? single : await measureMesh(root, n)
    rows.push({
      nodes: n,
      changes: m.changes,
      bytes_received_per_change_per_node: +m.bytesPerChange.toFixed(1),
      x_single_copy: +(m.bytesPerChange / single.bytesPerChange).toFixed(2)
    })
  }
  return rows
}
