import { CLI_REQUEST_TIMEOUT_MS } from '../limits.js'
import { MarksyncError, isErrorCode } from '../errors.js'

/**
 * A small client of one node's HTTP API (global fetch). Used by the CLI; usable
 * from scripts too. Every failure is a `MarksyncError` whose message says what to do:
 * the API's own code for its 4xx/5xx answers (`TOKEN_MISSING` and `TOKEN_REJECTED`
 * instead of its `UNAUTHORIZED`), `UNREACHABLE` when the node cannot be reached,
 * `NOT_THE_API` when what answers is not a marksync API (a peer port, another server).
 */
export interface ApiClientOptions {
  token?: string
  /** Where the token came from, for the error when the node refuses it ("--token"...). */
  tokenSource?: string
  timeoutMs?: number
}

export class ApiClient {
  readonly base: string
  readonly #token: string | undefined
  readonly #tokenSource: string
  readonly #timeoutMs: number

  constructor (base: string, options: ApiClientOptions = {}) {
    this.base = base.replace(/\/+$/, '')
    this.#token = options.token
    this.#tokenSource = options.tokenSource ?? 'the caller'
    this.#timeoutMs = options.timeoutMs ?? CLI_REQUEST_TIMEOUT_MS
  }

  async request<T = unknown> (method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await this.#fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (!response.ok) throw this.#failure(response.status, parsed)
    if (parsed === undefined) {
      throw new MarksyncError('BAD_RESPONSE', `${this.base} answered something that is not JSON (HTTP ${response.status}): is it a marksync node's "api" address?`)
    }
    return parsed as T
  }

  /** Text routes (/metrics). */
  async text (path: string): Promise<string> {
    const response = await this.#fetch(path, { headers: {} })
    const text = await response.text()
    if (!response.ok) {
      let parsed: unknown
      try { parsed = JSON.parse(text) } catch {}
      throw this.#failure(response.status, parsed)
    }
    return text
  }

  async #fetch (path: string, init: { method?: string, headers: Record<string, string>, body?: string }): Promise<Response> {
    if (this.#token !== undefined) init.headers.authorization = `Bearer ${this.#token}`
    try {
      return await fetch(this.base + path, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) })
    } catch (err) {
      const inner = (err as { cause?: { code?: string, message?: string } }).cause
      const cause = inner?.code ?? inner?.message ?? (err as Error).message
      throw new MarksyncError('UNREACHABLE', `cannot reach the node at ${this.base} (${cause}): is it running, and is this its "api" address?`, { cause: err })
    }
  }

  /** The error for a 4xx/5xx answer, saying what to do where the API's own message cannot. */
  #failure (status: number, parsed: unknown): MarksyncError {
    const error = (parsed as { error?: { code?: unknown, message?: unknown } } | undefined)?.error
    const fix = 'point --api at the node\'s "api" address from the mesh file, or use --config FILE --node ID'
    if (status === 426) {
      return withStatus(new MarksyncError('NOT_THE_API', `${this.base} is a replication (peer) port, not the HTTP API: ${fix}`), status)
    }
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
      return withStatus(new MarksyncError('NOT_THE_API', `${this.base} answered HTTP ${status} and is not a marksync API: ${fix}`), status)
    }
    if (error.code === 'UNAUTHORIZED' && this.#token === undefined) {
      return withStatus(new MarksyncError('TOKEN_MISSING', `the node at ${this.base} requires its API token: give --token, set MARKSYNC_API_TOKEN, or use --config FILE --node ID to read its "apiToken" from the mesh file`), status)
    }
    if (error.code === 'UNAUTHORIZED') {
      return withStatus(new MarksyncError('TOKEN_REJECTED', `the node at ${this.base} refused the API token from ${this.#tokenSource}: it is not the node's "apiToken" (see the file the mesh file names there)`), status)
    }
    // A code this version does not know is reported by its HTTP status.
    return withStatus(new MarksyncError(isErrorCode(error.code) ? error.code : `HTTP_${status}`, error.message), status)
  }
}

function withStatus (err: MarksyncError, status: number): MarksyncError {
  return Object.assign(err, { status })
}

export function userPath (user: string, ...rest: string[]): string {
  return ['/v1/users', user, ...rest].map((part, i) => i === 0 ? part : encodeURIComponent(part)).join('/')
}
