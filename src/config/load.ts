import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { MarksyncError } from '../errors.js'
import { MAX_MESH_FILE_BYTES } from '../limits.js'
import type { PeerConfig, TlsFiles } from '../contracts.js'
import { parseMesh, peersOf, type Mesh, type MeshNode } from './mesh.js'
import { Problems } from './problems.js'
import { readNodeResources, type Env } from './resources.js'

/**
 * Everything `marksync start` needs to run one node, read and checked. Invalid
 * files throw `CONFIG_INVALID` whose `problems` are the lines `config check` prints.
 */
export interface NodeConfig {
  mesh: Mesh
  node: MeshNode
  peers: PeerConfig[]
  secret: Buffer
  /** Further secrets accepted from peers during a rotation (may be empty). */
  acceptSecrets: Buffer[]
  apiToken?: string
  tls?: TlsFiles
  /** The Dovecot master user's password (nodes with a `dovecot` section). */
  dovecotPassword?: string
}

export class ConfigError extends MarksyncError {
  readonly problems: string[]

  constructor (file: string, problems: string[]) {
    super('CONFIG_INVALID', `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Reads and parses a mesh file; never throws for a bad file (problems say what is wrong). */
export function loadMeshFile (file: string): { mesh: Mesh, problems: Problems } {
  const absolute = resolve(file)
  const dir = dirname(absolute)
  let text: string
  try {
    const size = statSync(absolute).size
    if (size > MAX_MESH_FILE_BYTES) {
      const problems = new Problems()
      problems.add([], `file is ${size} bytes; at most ${MAX_MESH_FILE_BYTES} are read`)
      return { mesh: { file: absolute, dir, cluster: '', acceptSecrets: [], links: [], nodes: [], retired: [] }, problems }
    }
    text = readFileSync(absolute, 'utf8')
  } catch (err) {
    const problems = new Problems()
    problems.add([], `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    return { mesh: { file: absolute, dir, cluster: '', acceptSecrets: [], links: [], nodes: [], retired: [] }, problems }
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    const problems = new Problems()
    problems.add([], jsonSyntaxProblem(text, err as Error))
    return { mesh: { file: absolute, dir, cluster: '', acceptSecrets: [], links: [], nodes: [], retired: [] }, problems }
  }
  return parseMesh(raw, dir, absolute)
}

/** A JSON syntax error located by line and column (1-based), as an editor shows them, not by character offset. */
export function jsonSyntaxProblem (text: string, err: Error): string {
  const match = / in JSON at position (\d+)/.exec(err.message)
  const position = match === null ? text.length : Number(match[1])
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  const what = match === null ? err.message : err.message.slice(0, match.index)
  return `invalid JSON at line ${line}, column ${column}: ${what}`
}

/**
 * Checks a mesh file the way `config check` does: its structure, and the secret,
 * token and TLS files of `nodeId` (or of every node when omitted).
 */
export function checkMeshFile (file: string, options: { nodeId?: string, env?: Env } = {}): { mesh: Mesh, problems: Problems } {
  const { mesh, problems } = loadMeshFile(file)
  const env = options.env ?? process.env
  if (options.nodeId !== undefined) {
    const node = mesh.nodes.find(n => n.id === options.nodeId)
    if (node === undefined) {
      if (problems.ok) problems.add([], `no node "${options.nodeId}" (nodes: ${mesh.nodes.map(n => n.id).join(', ')})`)
    } else {
      readNodeResources(mesh, node, problems, env)
    }
  } else {
    for (const node of mesh.nodes) readNodeResources(mesh, node, problems, env)
  }
  return { mesh, problems }
}

/** The configuration of one node, or `ConfigError` listing every problem. */
export function loadNodeConfig (file: string, nodeId: string, env: Env = process.env): NodeConfig {
  const { mesh, problems } = loadMeshFile(file)
  const node = mesh.nodes.find(n => n.id === nodeId)
  if (node === undefined) {
    if (problems.ok) problems.add([], `no node "${nodeId}" (nodes: ${mesh.nodes.map(n => n.id).join(', ')})`)
    throw new ConfigError(file, problems.lines())
  }
  const resources = readNodeResources(mesh, node, problems, env)
  if (!problems.ok || resources.secret === undefined) throw new ConfigError(file, problems.lines())
  const config: NodeConfig = { mesh, node, peers: peersOf(mesh, nodeId), secret: resources.secret, acceptSecrets: resources.acceptSecrets ?? [] }
  if (resources.apiToken !== undefined) config.apiToken = resources.apiToken
  if (resources.tls !== undefined) config.tls = resources.tls
  if (resources.dovecotPassword !== undefined) config.dovecotPassword = resources.dovecotPassword
  return config
}
