import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { API_HEADERS_TIMEOUT_MS, API_REQUEST_TIMEOUT_MS, MAX_API_BODY_BYTES, SHUTDOWN_GRACE_MS } from '../limits.js'
import { readJsonBody } from './body.js'
import { HttpError, toHttpError } from './http-error.js'
import { buildRouter, RawReply, type ApiBackend, type RequestContext } from './routes.js'

/**
 * The node's HTTP API (node:http, JSON, versioned paths). Defensive by default:
 * bounded bodies, request and header timeouts, a JSON error for everything, and a
 * stop() that refuses new requests, lets in-flight ones (writes) finish, then closes.
 */
export interface ApiServerOptions {
  backend: ApiBackend
  host: string
  /** 0 picks a free port (see `port`). */
  port: number
  /** Bearer token required on every route but /v1/health and the status page; none if undefined. */
  token?: string
  maxBodyBytes?: number
  requestTimeoutMs?: number
  shutdownGraceMs?: number
  /** Called once per answered request (metrics). */
  onRequest?: (route: string, status: number, method: string) => void
  /** Called for 5xx answers, with the cause (logging). */
  onError?: (err: unknown, route: string) => void
}

/**
 * Routes served without the token: the health probe, and the status page, which holds
 * no data (it asks for the token and fetches /v1/status with it).
 */
const PUBLIC_ROUTES = new Set(['/v1/health', '/'])

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export class ApiServer {
  readonly #options: ApiServerOptions
  readonly #router = buildRouter()
  readonly #tokenDigest: Buffer | undefined
  #server: Server | undefined
  #port = 0
  #inFlight = 0
  #stopping = false
  #idle: (() => void) | undefined
  readonly #stopped = new AbortController()

  constructor (options: ApiServerOptions) {
    this.#options = options
    this.#tokenDigest = options.token === undefined ? undefined : digest(options.token)
  }

  /** The port actually listened on. */
  get port (): number {
    return this.#port
  }

  /** Requests being handled right now. */
  get inFlight (): number {
    return this.#inFlight
  }

  get url (): string {
    const host = this.#options.host.includes(':') ? `[${this.#options.host}]` : this.#options.host
    return `http://${host}:${this.#port}`
  }

  async start (): Promise<void> {
    if (this.#server !== undefined) return
    const timeoutMs = this.#options.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS
    // Node checks its own request and header timeouts only this often: keep it well under them.
    const connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 4)))
    const server = createServer({ connectionsCheckingInterval }, (req, res) => { void this.#handle(req, res) })
    // Node's limits are the backstop for the header phase; the body has its own deadline (body.ts)
    // so that a slow body gets a JSON 408 rather than a bare one.
    server.headersTimeout = Math.min(API_HEADERS_TIMEOUT_MS, timeoutMs)
    server.requestTimeout = timeoutMs + 1_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.#port = (server.address() as AddressInfo).port
    this.#server = server
  }

  /** Idempotent: stops accepting, waits for in-flight requests (bounded), closes every connection. */
  async stop (): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    this.#stopping = true
    this.#stopped.abort()
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    server.closeIdleConnections()
    if (this.#inFlight > 0) {
      const grace = this.#options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, grace)
        this.#idle = () => { clearTimeout(timer); resolve() }
      })
      this.#idle = undefined
    }
    server.closeAllConnections()
    await closed
  }

  #authorized (req: IncomingMessage): boolean {
    if (this.#tokenDigest === undefined) return true
    const header = req.headers.authorization ?? ''
    const match = /^Bearer +(.+)$/i.exec(header)  // the scheme is case-insensitive (RFC 9110)
    // Compare digests in constant time: the token's length and content stay secret.
    return match !== null && timingSafeEqual(digest(match[1] as string), this.#tokenDigest)
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inFlight++
    let route = 'unmatched'
    const method = req.method ?? 'GET'
    try {
      if (this.#stopping) throw new HttpError(503, 'SHUTTING_DOWN', 'the node is stopping')
      const url = requestUrl(req)
      const match = this.#router.match(method, url.pathname)
      route = match.route
      if (!PUBLIC_ROUTES.has(route) && !this.#authorized(req)) {
        throw new HttpError(401, 'UNAUTHORIZED', 'a valid "Authorization: Bearer <token>" header is required')
      }
      this.#reply(res, await match.handler(this.#context(req, res, url), match.params))
    } catch (err) {
      this.#replyError(req, res, err, route)
    } finally {
      this.#options.onRequest?.(route, res.statusCode, method)
      this.#inFlight--
      if (this.#inFlight === 0) this.#idle?.()
    }
  }

  /** What a route handler gets: the body is read only if it asks, and `signal` ends with the client or the server. */
  #context (req: IncomingMessage, res: ServerResponse, url: URL): RequestContext {
    const maxBytes = this.#options.maxBodyBytes ?? MAX_API_BODY_BYTES
    const timeoutMs = this.#options.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS
    const gone = new AbortController()
    res.once('close', () => gone.abort())
    const signal = AbortSignal.any([gone.signal, this.#stopped.signal])
    return { backend: this.#options.backend, query: url.searchParams, body: async () => await readJsonBody(req, maxBytes, timeoutMs), signal }
  }

  #reply (res: ServerResponse, result: unknown): void {
    if (result instanceof RawReply) {
      for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value)
      this.#send(res, result.status, result.body, result.contentType)
    }
    else this.#send(res, 200, JSON.stringify(result), 'application/json')
  }

  #replyError (req: IncomingMessage, res: ServerResponse, err: unknown, route: string): void {
    const error = toHttpError(err)
    if (error.status >= 500 && error.code === 'INTERNAL') this.#options.onError?.(err, route)
    const allow = (err as { allow?: string }).allow
    if (allow !== undefined) res.setHeader('allow', allow)
    // After a rejected body the rest of it is unread: close rather than parse it as a request.
    const unread = error.status === 413 || error.status === 408
    if (unread || this.#stopping) res.setHeader('connection', 'close')
    this.#send(res, error.status, JSON.stringify({ error: { code: error.code, message: error.message } }), 'application/json')
    if (error.status === 413) req.resume()
    if (error.status === 408) res.once('finish', () => req.socket.destroy())
  }

  #send (res: ServerResponse, status: number, body: string, contentType: string): void {
    if (res.headersSent) {
      res.end()
      return
    }
    res.writeHead(status, { 'content-type': contentType.includes('charset') ? contentType : `${contentType}; charset=utf-8`, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
    res.end(body)
  }
}

/** The request target as a URL. Origin-form paths only. */
function requestUrl (req: IncomingMessage): URL {
  // Parsed as a URL relative to a base, a path starting with "//" named a host:
  // "//x/v1/status" routed to /v1/status and "///%71" threw (500).
  const target = req.url ?? '/'
  if (!target.startsWith('/')) throw new HttpError(400, 'INVALID_PATH', 'the request target must be a path starting with "/"')
  return new URL(`http://localhost${target}`)
}
