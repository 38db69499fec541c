import { parseAddress, type Address } from '../config/address.js'
import { loadMeshFile } from '../config/load.js'
import { Problems } from '../config/problems.js'
import { readSecret } from '../config/resources.js'
import { MarksyncError } from '../errors.js'
import { ApiClient } from './client.js'

/**
 * Which node a client command talks to: `--api URL`, or `--config FILE --node ID`
 * (the node's API address from the mesh file), or `MARKSYNC_API`. The bearer token:
 * `--token`, else `MARKSYNC_API_TOKEN`, else the node's `apiToken` from the mesh file.
 */
export interface TargetArgs {
  api?: string
  config?: string
  node?: string
  token?: string
}

export class UsageError extends MarksyncError {
  constructor (message: string) {
    super('USAGE', message)
    this.name = 'UsageError'
  }
}

export function clientFor (args: TargetArgs, env: Record<string, string | undefined> = process.env): ApiClient {
  let base = args.api
  // An empty variable is an unset one (a shell's `MARKSYNC_API_TOKEN= marksync ...`).
  let token = args.token ?? (env.MARKSYNC_API_TOKEN === '' ? undefined : env.MARKSYNC_API_TOKEN)
  let tokenSource = args.token !== undefined ? '--token' : 'MARKSYNC_API_TOKEN'
  if (base === undefined && args.config !== undefined) {
    if (args.node === undefined) throw new UsageError('--config needs --node ID to pick the node whose API to call')
    const { mesh, problems } = loadMeshFile(args.config)
    const node = mesh.nodes.find(n => n.id === args.node)
    if (node === undefined) {
      const why = problems.ok ? `no node "${args.node}" in ${args.config}` : `${args.config} is invalid (run "marksync config check ${args.config}")`
      throw new UsageError(why)
    }
    base = apiUrl(node.api)
    if (token === undefined && node.settings.apiToken !== undefined) {
      const tokenProblems = new Problems()
      token = readSecret(node.settings.apiToken, mesh.dir, ['settings', 'apiToken'], tokenProblems, env, 1)?.toString('utf8')
      tokenSource = `the mesh file's "apiToken" of node ${node.id}`
    }
  }
  if (base === undefined && env.MARKSYNC_API !== '') base = env.MARKSYNC_API
  if (base === undefined) throw new UsageError('which node? give --api URL, or --config FILE --node ID (or set MARKSYNC_API)')
  return new ApiClient(apiBase(base), token === undefined ? {} : { token, tokenSource })
}

/** `--api` as a URL, or `host:port` (or a bare port) as the mesh file writes it. */
function apiBase (given: string): string {
  if (/^https?:\/\//.test(given)) return given
  const address = parseAddress(given)
  if (typeof address === 'string' || /^[a-z][a-z0-9+.-]*:\/\//i.test(given)) {
    throw new UsageError(`--api must be http://HOST:PORT or HOST:PORT (the node's "api" in the mesh file), got "${given}"`)
  }
  return apiUrl(address)
}

/** The URL of an API address; a wildcard bind address is reached on loopback from the same host. */
export function apiUrl (address: Address): string {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`
}
