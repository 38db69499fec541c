import { CLI_REQUEST_TIMEOUT_MS } from '../limits.js'
import { MarksyncError } from '../errors.js'

/**
 * A small client of one node's HTTP API (global fetch). Used by the CLI; usable
 * from scripts too. Every failure is a `MarksyncError`: the API's own code for
 * 4xx/5xx answers, `UNREACHABLE` when the node cannot be reached.
 */
export class ApiClient {
  readonly base: string
  readonly #token: string | undefined
  readonly #timeoutMs: number

  constructor (base: string, options: { token?: string, timeoutMs?: number } = {}) {
    this.base = base.replace(/\/+$/, '')
    this.#token = options.token
    this.#timeoutMs = options.timeoutMs ?? CLI_REQUEST_TIMEOUT_MS
  }

  async request<T = unknown> (method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs)
      })
    } catch (err) {
      const inner = (err as { cause?: { code?: string, message?: string } }).cause
      const cause = inner?.code ?? inner?.message ?? (err as Error).message
      throw new MarksyncError('UNREACHABLE', `cannot reach the node at ${this.base} (${cause})`, { cause: err })
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string, message?: string } } | undefined)?.error
      throw Object.assign(new MarksyncError(error?.code ?? `HTTP_${response.status}`, error?.message ?? `HTTP ${response.status}`), { status: response.status })
    }
    if (parsed === undefined) throw new MarksyncError('BAD_RESPONSE', `the node answered something that is not JSON (HTTP ${response.status})`)
    return parsed as T
  }

  /** Text routes (/metrics). */
  async text (path: string): Promise<string> {
    const headers: Record<string, string> = {}
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    const response = await fetch(this.base + path, { headers, signal: AbortSignal.timeout(this.#timeoutMs) })
    if (!response.ok) throw new MarksyncError(`HTTP_${response.status}`, `HTTP ${response.status}`)
    return await response.text()
  }
}

export function userPath (user: string, ...rest: string[]): string {
  return ['/v1/users', user, ...rest].map((part, i) => i === 0 ? part : encodeURIComponent(part)).join('/')
}
