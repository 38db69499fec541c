import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { MIN_SECRET_BYTES } from '../limits.js'
import type { TlsFiles } from '../contracts.js'
import type { Mesh, MeshNode } from './mesh.js'
import type { JsonPath, Problems } from './problems.js'
import type { SecretRef } from './settings.js'

/**
 * Reads what the mesh file only points at: secret files, environment variables and
 * TLS files. Kept apart from parsing because these live on each host: `start` checks
 * its own node's, `config check` every node's.
 */
export type Env = Record<string, string | undefined>

/** Secret files may end with a newline (editors add one); it is not part of the secret. */
function trimEnd (bytes: Buffer): Buffer {
  let end = bytes.length
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--
  return bytes.subarray(0, end)
}

export function readSecret (ref: SecretRef, dir: string, at: JsonPath, problems: Problems, env: Env, minBytes: number): Buffer | undefined {
  let value: Buffer
  if ('file' in ref) {
    try {
      value = trimEnd(readFileSync(resolve(dir, ref.file)))
    } catch (err) {
      problems.add([...at, 'file'], `cannot read secret file ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      return undefined
    }
  } else {
    const text = env[ref.env]
    if (text === undefined || text === '') {
      problems.add([...at, 'env'], `environment variable ${ref.env} is not set`)
      return undefined
    }
    value = Buffer.from(text, 'utf8')
  }
  if (value.length < minBytes) {
    problems.add(at, `secret is ${value.length} bytes; at least ${minBytes} are needed`)
    return undefined
  }
  return value
}

function readTlsFile (file: string | undefined, at: JsonPath, problems: Problems): Buffer | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file)
  } catch (err) {
    problems.add(at, `cannot read TLS file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    return undefined
  }
}

export interface NodeResources {
  secret?: Buffer
  acceptSecrets?: Buffer[]
  apiToken?: string
  tls?: TlsFiles
  /** The Dovecot master user's password, when the node has a `dovecot` section. */
  dovecotPassword?: string
}

/**
 * Reads the secret, API token and TLS files one node needs; problems go to `problems`
 * (which drops exact repeats, so checking every node reports a shared file once).
 */
export function readNodeResources (mesh: Mesh, node: MeshNode, problems: Problems, env: Env): NodeResources {
  const index = node.index
  const out: NodeResources = {}
  if (mesh.secret !== undefined) out.secret = readSecret(mesh.secret, mesh.dir, ['secret'], problems, env, MIN_SECRET_BYTES)
  out.acceptSecrets = []
  mesh.acceptSecrets.forEach((ref, i) => {
    const secret = readSecret(ref, mesh.dir, ['acceptSecrets', i], problems, env, MIN_SECRET_BYTES)
    if (secret !== undefined) out.acceptSecrets?.push(secret)
  })
  const token = node.settings.apiToken
  if (token !== undefined) {
    out.apiToken = readSecret(token, mesh.dir, ['settings', 'apiToken'], problems, env, 1)?.toString('utf8')
  }
  if (node.dovecot !== undefined) {
    const ref = { file: node.dovecot.masterPasswordFile }
    out.dovecotPassword = readSecret(ref, mesh.dir, ['nodes', index, 'dovecot', 'masterPasswordFile'], problems, env, 1)?.toString('utf8')
  }
  const ca = readTlsFile(mesh.tlsCa, ['tls', 'ca'], problems)
  const cert = readTlsFile(node.tls.cert, ['nodes', index, 'tls', 'cert'], problems)
  const key = readTlsFile(node.tls.key, ['nodes', index, 'tls', 'key'], problems)
  if (ca !== undefined || cert !== undefined || key !== undefined) {
    out.tls = {}
    if (ca !== undefined) out.tls.ca = ca
    if (cert !== undefined) out.tls.cert = cert
    if (key !== undefined) out.tls.key = key
  }
  return out
}
