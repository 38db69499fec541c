import { resolve } from 'node:path'
import { checkNodeId } from '../validate.js'
import { parseDovecotSection, type DovecotSection } from '../bridge/config.js'
import { parseAddress, parsePeerUrl, type Address } from './address.js'
import { checkKeys, isObject, Problems, type JsonPath } from './problems.js'
import { parseLinks, type Link } from './links.js'
import { parseRetired } from './retired.js'
import { mergeSettings, parseSecretRef, parseSettings, type SecretRef, type Settings } from './settings.js'

/** One node of the mesh, with paths resolved against the mesh file's directory. */
export interface MeshNode {
  id: string
  /** Position in the file's `nodes` array, for problem paths. */
  index: number
  /** Where peers reach this node: `ws://host:port` or `wss://host:port`. */
  peerUrl: string
  secure: boolean
  /** Host and port of `peerUrl`. */
  peerAddress: Address
  /** Where the node accepts replication sessions (default: host and port of `peerUrl`). */
  listen: Address
  /** Where the HTTP API listens. */
  api: Address
  /** Absolute data directory. */
  dataDir: string
  /** Mesh-wide settings with this node's overrides applied. */
  settings: Settings
  /** Absolute paths of this node's TLS certificate and key. */
  tls: { cert?: string, key?: string }
  /** The local Dovecot the node's bridge serves, if any (docs/dovecot.md). */
  dovecot?: DovecotSection
}

export type { Link } from './links.js'

export interface Mesh {
  /** Absolute path of the mesh file (empty when parsed from memory). */
  file: string
  cluster: string
  secret?: SecretRef
  /** Older (or newer) secrets still accepted from peers while the secret is rotated. */
  acceptSecrets: SecretRef[]
  /** Absolute path of the cluster CA, if any. */
  tlsCa?: string
  links: Link[]
  nodes: MeshNode[]
  /** Ids of hosts retired from the mesh: no links, but their changes stay valid (retired.ts). */
  retired: string[]
  /** Directory that relative paths resolve against. */
  dir: string
}

const TOP_KEYS = ['cluster', 'secret', 'acceptSecrets', 'links', 'tls', 'settings', 'nodes', 'retired'] as const
/** Most extra secrets accepted during a rotation. */
export const MAX_ACCEPT_SECRETS = 4
const NODE_KEYS = ['id', 'peerUrl', 'api', 'dataDir', 'listen', 'settings', 'tls', 'dovecot'] as const
const CLUSTER = /^[A-Za-z0-9._-]{1,64}$/

function path (value: unknown, at: JsonPath, problems: Problems, dir: string): string | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.add(at, 'must be a non-empty path')
    return undefined
  }
  return resolve(dir, value)
}

function parseNode (raw: unknown, at: JsonPath, problems: Problems, dir: string, shared: Partial<Settings>): MeshNode | undefined {
  if (!isObject(raw)) {
    problems.add(at, 'a node must be an object')
    return undefined
  }
  checkKeys(raw, NODE_KEYS, at, problems)
  const id = parseId(raw.id, [...at, 'id'], problems)
  const { peer, api, listen } = parseAddresses(raw, at, problems)
  const dataDir = path(raw.dataDir, [...at, 'dataDir'], problems, dir)
  const own = parseSettings(raw.settings, [...at, 'settings'], problems)
  const tls = parseNodeTls(raw.tls, [...at, 'tls'], problems, dir)
  if (peer?.secure === true && (tls.cert === undefined || tls.key === undefined)) {
    problems.add([...at, 'peerUrl'], 'a wss:// node needs "tls": {"cert", "key"}')
  }
  const dovecot = raw.dovecot === undefined ? undefined : parseDovecotSection(raw.dovecot, [...at, 'dovecot'], problems, dir)
  if (id === undefined || peer === undefined || api === undefined || listen === undefined || dataDir === undefined) return undefined
  return {
    ...(dovecot !== undefined ? { dovecot } : {}),
    id,
    index: at[1] as number,
    peerUrl: peer.url,
    secure: peer.secure,
    peerAddress: peer.address,
    listen,
    api,
    dataDir,
    settings: mergeSettings(shared, own),
    tls
  }
}

function parseId (raw: unknown, at: JsonPath, problems: Problems): string | undefined {
  try {
    return checkNodeId(raw)
  } catch (err) {
    problems.add(at, (err as Error).message)
    return undefined
  }
}

type PeerUrl = Exclude<ReturnType<typeof parsePeerUrl>, string>

/** A node's peerUrl, API and listen addresses; each undefined if it is wrong (the problem is added). */
function parseAddresses (raw: Record<string, unknown>, at: JsonPath, problems: Problems): { peer?: PeerUrl, api?: Address, listen?: Address } {
  const peer = parsePeerUrl(raw.peerUrl)
  if (typeof peer === 'string') problems.add([...at, 'peerUrl'], peer)
  const api = parseAddress(raw.api)
  if (typeof api === 'string') problems.add([...at, 'api'], api)
  // The listen address defaults to the peerUrl's host and port.
  let listen: Address | string | undefined = typeof peer === 'string' ? undefined : peer.address
  if (raw.listen !== undefined) {
    listen = parseAddress(raw.listen)
    if (typeof listen === 'string') problems.add([...at, 'listen'], listen)
  }
  return {
    ...(typeof peer !== 'string' ? { peer } : {}),
    ...(typeof api !== 'string' ? { api } : {}),
    ...(listen !== undefined && typeof listen !== 'string' ? { listen } : {})
  }
}

function parseNodeTls (raw: unknown, at: JsonPath, problems: Problems, dir: string): MeshNode['tls'] {
  const tls: MeshNode['tls'] = {}
  if (raw === undefined) return tls
  if (!isObject(raw)) {
    problems.add(at, 'must be {"cert": "path", "key": "path"}')
    return tls
  }
  checkKeys(raw, ['cert', 'key'], at, problems)
  tls.cert = path(raw.cert, [...at, 'cert'], problems, dir)
  tls.key = path(raw.key, [...at, 'key'], problems, dir)
  return tls
}

/**
 * Nodes on the same machine must not share a port (listen or API, whatever address
 * they bind) or a data directory. A node's machine is the host of its peerUrl: two
 * API addresses on 127.0.0.1 of two different machines do not collide.
 */
function checkCollisions (nodes: Array<{ node: MeshNode, index: number }>, problems: Problems): void {
  const ports = new Map<string, string>()
  const dirs = new Map<string, string>()
  for (const { node, index } of nodes) {
    const machine = node.peerAddress.host.toLowerCase()
    const endpoints: Array<[string, Address]> = [['listen', node.listen], ['api', node.api]]
    for (const [what, address] of endpoints) {
      if (address.port === 0) continue
      const key = `${machine}\u0000${address.port}`
      const first = ports.get(key)
      if (first !== undefined) problems.add(['nodes', index, what], `port ${address.port} on host ${node.peerAddress.host} is also used by ${first}`)
      else ports.set(key, `nodes[${index}].${what}`)
    }
    const dirKey = `${machine}\u0000${node.dataDir}`
    const firstDir = dirs.get(dirKey)
    if (firstDir !== undefined) problems.add(['nodes', index, 'dataDir'], `same data directory on host ${node.peerAddress.host} as ${firstDir}`)
    else dirs.set(dirKey, `nodes[${index}].dataDir`)
  }
}

/** Validates a parsed mesh file; `problems` collects everything wrong, with JSON paths. */
export function parseMesh (raw: unknown, dir: string, file = ''): { mesh: Mesh, problems: Problems } {
  const problems = new Problems()
  const mesh: Mesh = { file, dir, cluster: '', acceptSecrets: [], links: [], nodes: [], retired: [] }
  if (!isObject(raw)) {
    problems.add([], 'the mesh file must hold a JSON object')
    return { mesh, problems }
  }
  checkKeys(raw, TOP_KEYS, [], problems)
  if (typeof raw.cluster !== 'string' || !CLUSTER.test(raw.cluster)) problems.add(['cluster'], 'must be 1..64 characters of [A-Za-z0-9._-]')
  else mesh.cluster = raw.cluster
  parseSecrets(raw, mesh, problems)
  parseMeshTls(raw.tls, mesh, problems)
  const shared = parseSettings(raw.settings, ['settings'], problems)
  const { ids, parsed } = parseNodes(raw.nodes, problems, dir, shared)
  checkCollisions(parsed, problems)
  mesh.nodes = parsed.map(p => p.node)
  mesh.links = parseLinks(raw.links, ids, problems)
  mesh.retired = parseRetired(raw.retired, ids, problems)
  return { mesh, problems }
}

function parseSecrets (raw: Record<string, unknown>, mesh: Mesh, problems: Problems): void {
  if (raw.secret === undefined) problems.add(['secret'], 'missing: the cluster secret, {"file": "path"} or {"env": "VARIABLE"}')
  else mesh.secret = parseSecretRef(raw.secret, ['secret'], problems)
  if (raw.acceptSecrets === undefined) return
  if (!Array.isArray(raw.acceptSecrets) || raw.acceptSecrets.length > MAX_ACCEPT_SECRETS) {
    problems.add(['acceptSecrets'], `must be an array of at most ${MAX_ACCEPT_SECRETS} {"file"} or {"env"} secrets`)
    return
  }
  raw.acceptSecrets.forEach((item: unknown, i: number) => {
    const ref = parseSecretRef(item, ['acceptSecrets', i], problems)
    if (ref !== undefined) mesh.acceptSecrets.push(ref)
  })
}

function parseMeshTls (raw: unknown, mesh: Mesh, problems: Problems): void {
  if (raw === undefined) return
  if (!isObject(raw)) problems.add(['tls'], 'must be {"ca": "path"}')
  else {
    checkKeys(raw, ['ca'], ['tls'], problems)
    mesh.tlsCa = path(raw.ca, ['tls', 'ca'], problems, mesh.dir)
  }
}

/** The valid nodes, and the index of every node id (also of invalid nodes, so links to them are not "unknown"). */
function parseNodes (raw: unknown, problems: Problems, dir: string, shared: Partial<Settings>): { ids: Map<string, number>, parsed: Array<{ node: MeshNode, index: number }> } {
  const ids = new Map<string, number>()
  const parsed: Array<{ node: MeshNode, index: number }> = []
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.add(['nodes'], 'must be a non-empty array of nodes')
    return { ids, parsed }
  }
  raw.forEach((item: unknown, index: number) => {
    const node = parseNode(item, ['nodes', index], problems, dir, shared)
    const id = isObject(item) ? item.id : undefined
    if (typeof id === 'string') {
      const first = ids.get(id)
      if (first !== undefined) problems.add(['nodes', index, 'id'], `duplicate node id "${id}" (also nodes[${first}])`)
      else ids.set(id, index)
    }
    if (node !== undefined) parsed.push({ node, index })
  })
  return { ids, parsed }
}

/** The peers of `id`: every node it shares a link with, at the URL that link uses. */
export function peersOf (mesh: Mesh, id: string): Array<{ id: string, url: string }> {
  const byId = new Map(mesh.nodes.map(n => [n.id, n]))
  const peers: Array<{ id: string, url: string }> = []
  for (const link of mesh.links) {
    const [a, b] = link.nodes
    const other = a === id ? b : b === id ? a : undefined
    if (other === undefined) continue
    const url = link.urls[other] ?? byId.get(other)?.peerUrl
    if (url !== undefined) peers.push({ id: other, url })
  }
  return peers
}
