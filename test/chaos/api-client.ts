import { request as httpRequest, Agent } from 'node:http'

/** Default deadline of one API request, in ms: a paused node must not hang a worker. */
export const API_TIMEOUT_MS = 3_000
/** Largest response body read, in bytes (a winners page of MAX_PAGE_ENTRIES fits). */
export const API_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

/**
 * How a request ended without a response:
 * - `refused`: the connection was refused, so nothing was sent (the change cannot have been entered);
 * - `timeout`, `failed`: the request may have reached the node (the change may or may not be entered).
 */
export type TransportFailure = 'refused' | 'timeout' | 'failed'

export class ApiTransportError extends Error {
  constructor (readonly failure: TransportFailure, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ApiTransportError'
  }
}

export interface ApiResponse {
  status: number
  body: unknown
}

// No keep-alive: a killed node must not leave a pooled socket that fails the next request
// in a way indistinguishable from one the node received.
const agent = new Agent({ keepAlive: false })

/** One JSON request to a node's HTTP API (`base` like `http://127.0.0.1:7801`). */
export async function apiRequest (
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: { timeoutMs?: number, token?: string } = {}
): Promise<ApiResponse> {
  const url = new URL(path, base)
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  const headers: Record<string, string> = { accept: 'application/json' }
  if (payload !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = String(payload.length)
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  return await new Promise<ApiResponse>((resolve, reject) => {
    let sent = false
    const req = httpRequest(url, { method, headers, agent }, res => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > API_MAX_RESPONSE_BYTES) {
          req.destroy(new ApiTransportError('failed', `response larger than ${API_MAX_RESPONSE_BYTES} bytes`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => {
        clearTimeout(timer)
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: unknown = text
        try {
          parsed = text.length > 0 ? JSON.parse(text) : undefined
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
      res.on('error', () => {})
    })
    const timer = setTimeout(() => {
      req.destroy(new ApiTransportError('timeout', `${method} ${path}: no answer within ${options.timeoutMs ?? API_TIMEOUT_MS} ms`))
    }, options.timeoutMs ?? API_TIMEOUT_MS)
    req.on('socket', socket => { socket.once('connect', () => { sent = true }) })
    req.on('error', err => {
      clearTimeout(timer)
      if (err instanceof ApiTransportError) {
        reject(err)
        return
      }
      const code = (err as NodeJS.ErrnoException).code
      const failure: TransportFailure = !sent && code === 'ECONNREFUSED' ? 'refused' : 'failed'
      reject(new ApiTransportError(failure, `${method} ${path}: ${code ?? err.message}`, { cause: err }))
    })
    req.end(payload)
  })
}

/** GET that must answer 200; anything else throws with the API's error code. */
export async function apiGet<T> (base: string, path: string, options: { timeoutMs?: number, token?: string } = {}): Promise<T> {
  const res = await apiRequest(base, 'GET', path, undefined, options)
  if (res.status !== 200) throw new Error(`GET ${path} on ${base}: HTTP ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as T
}
