import { cp, mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { BIN, ROOT, writeMesh, type TestMesh, type TestNode } from '../helpers/daemon.js'
import { ChaosNode } from './node.js'
import { LinkProxy } from './proxy.js'
import { reservePorts } from './ports.js'
import type { Link } from './schedule.js'

export type Topology = 'full' | 'ring'

export interface ChaosClusterOptions {
  /** Directory for the mesh file, data dirs and logs. */
  dir: string
  nodes: number
  topology?: Topology
  /** Mesh-wide settings written to the mesh file (durations as strings). */
  settings: Record<string, unknown>
  /**
   * Run a copy of the build (see `snapshotBuild`) instead of the tree's bin/marksync.js.
   * Off in `npm test`, so that the daemons' coverage maps to the sources.
   */
  snapshot?: boolean
}

/** Node ids a, b, c, ... (at most 26). */
export function nodeIds (count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 26) throw new TypeError('1..26 nodes')
  return Array.from({ length: count }, (_, i) => String.fromCharCode(97 + i))
}

export function topologyLinks (ids: readonly string[], topology: Topology): Link[] {
  if (topology === 'ring') {
    if (ids.length < 3) return topologyLinks(ids, 'full')
    return ids.map((id, i) => [id, ids[(i + 1) % ids.length] as string] as const)
  }
  return ids.flatMap((x, i) => ids.slice(i + 1).map(y => [x, y] as const))
}

/**
 * Copies the built daemon (bin/, dist/src/, package.json) into `dir` and links node_modules,
 * so every node of the run, restarts included, runs the code the run started with even if
 * the tree is rebuilt meanwhile, and a kept failing run holds the exact code that failed.
 * Returns the snapshot's entry point.
 */
export async function snapshotBuild (dir: string): Promise<string> {
  await mkdir(join(dir, 'dist'), { recursive: true })
  await cp(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true })
  await cp(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true })
  await cp(join(ROOT, 'package.json'), join(dir, 'package.json'))
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return join(dir, 'bin', 'marksync.js')
}

function linkKey (link: Link): string {
  return [...link].sort().join('-')
}

/**
 * The nodes of a chaos run and the proxies of their links. Each link x-y has two proxies:
 * one in front of x (the URL y uses to reach x on this link) and one in front of y, written
 * into the mesh file as the link's `urls`. Cuts are counted per link, so overlapping faults
 * (a cut inside a partition) heal the link only when the last of them ends.
 */
export class ChaosCluster {
  readonly ids: string[]
  readonly links: Link[]
  readonly nodes = new Map<string, ChaosNode>()
  readonly #proxies = new Map<string, LinkProxy[]>()
  readonly #cuts = new Map<string, number>()

  private constructor (readonly mesh: TestMesh, links: Link[], readonly logDir: string) {
    this.ids = mesh.ids
    this.links = links
  }

  static async create (options: ChaosClusterOptions): Promise<ChaosCluster> {
    const ids = nodeIds(options.nodes)
    const links = topologyLinks(ids, options.topology ?? 'full')
    const mesh = await writeMesh(options.dir, { nodes: ids, cluster: 'chaos', settings: options.settings, links: 'full' })
    // Replace the helper's port-0 ports with ports outside the ephemeral range (see ports.ts).
    const ports = await reservePorts(ids.length * 2)
    const nodesJson = mesh.json.nodes as Array<Record<string, unknown>>
    ids.forEach((id, i) => {
      const node = mesh.nodes[id] as TestNode
      node.peerPort = ports[2 * i] as number
      node.apiPort = ports[2 * i + 1] as number
      node.peerUrl = `ws://127.0.0.1:${node.peerPort}`
      node.api = `http://127.0.0.1:${node.apiPort}`
      const entry = nodesJson[i] as Record<string, unknown>
      entry.peerUrl = node.peerUrl
      entry.api = `127.0.0.1:${node.apiPort}`
    })
    const cluster = new ChaosCluster(mesh, links, options.dir)
    const written: unknown[] = []
    for (const link of links) {
      const proxies = link.map(id => new LinkProxy({ target: { host: '127.0.0.1', port: (mesh.nodes[id] as TestNode).peerPort } }))
      cluster.#proxies.set(linkKey(link), proxies)
      for (const proxy of proxies) await proxy.start()
      written.push({
        nodes: [...link],
        urls: { [link[0]]: `ws://127.0.0.1:${(proxies[0] as LinkProxy).port}`, [link[1]]: `ws://127.0.0.1:${(proxies[1] as LinkProxy).port}` }
      })
    }
    await mesh.rewrite({ ...mesh.json, links: written })
    const bin = options.snapshot === true ? await snapshotBuild(join(options.dir, 'app')) : BIN
    for (const id of ids) cluster.nodes.set(id, new ChaosNode(mesh, id, options.dir, bin))
    return cluster
  }

  node (id: string): ChaosNode {
    const node = this.nodes.get(id)
    if (node === undefined) throw new TypeError(`no node ${id}`)
    return node
  }

  #proxiesOf (link: Link): LinkProxy[] {
    const proxies = this.#proxies.get(linkKey(link))
    if (proxies === undefined) throw new TypeError(`no link ${link.join('-')}`)
    return proxies
  }

  /** Links with one end in each group. */
  crossLinks (groups: readonly [readonly string[], readonly string[]]): Link[] {
    return this.links.filter(([x, y]) => (groups[0].includes(x) && groups[1].includes(y)) || (groups[0].includes(y) && groups[1].includes(x)))
  }

  cut (link: Link): void {
    const key = linkKey(link)
    this.#cuts.set(key, (this.#cuts.get(key) ?? 0) + 1)
    for (const proxy of this.#proxiesOf(link)) proxy.cut()
  }

  heal (link: Link): void {
    const key = linkKey(link)
    const left = Math.max(0, (this.#cuts.get(key) ?? 0) - 1)
    this.#cuts.set(key, left)
    if (left === 0) for (const proxy of this.#proxiesOf(link)) proxy.heal()
  }

  isCut (link: Link): boolean {
    return (this.#cuts.get(linkKey(link)) ?? 0) > 0
  }

  setDelay (link: Link, ms: number): void {
    for (const proxy of this.#proxiesOf(link)) proxy.setDelay(ms)
  }

  /** Every link healed and without delay, whatever faults were open. */
  healAll (): void {
    this.#cuts.clear()
    for (const proxies of this.#proxies.values()) {
      for (const proxy of proxies) {
        proxy.heal()
        proxy.setDelay(0)
      }
    }
  }

  /** Connections forwarded, broken by a cut and refused while cut, over every proxy. */
  proxyStats (): { accepted: number, broken: number, refused: number } {
    const stats = { accepted: 0, broken: 0, refused: 0 }
    for (const proxies of this.#proxies.values()) {
      for (const proxy of proxies) {
        stats.accepted += proxy.accepted
        stats.broken += proxy.broken
        stats.refused += proxy.refused
      }
    }
    return stats
  }

  async startAll (): Promise<void> {
    await Promise.all([...this.nodes.values()].map(async node => { await node.start() }))
  }

  /** Clean stop of every node, then the proxies. Idempotent. */
  async stopAll (): Promise<void> {
    await Promise.allSettled([...this.nodes.values()].map(async node => { await node.stop() }))
    for (const proxies of this.#proxies.values()) for (const proxy of proxies) await proxy.stop()
  }

  /** Synchronous SIGKILL of every node by pid, for exit handlers. */
  killAllNow (): void {
    for (const node of this.nodes.values()) node.killNow()
  }

  get dataDirs (): string[] {
    return this.ids.map(id => join(this.mesh.dir, 'data', id))
  }
}
