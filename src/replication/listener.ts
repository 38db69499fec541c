/**
 * Where peers dial in: an HTTP(S) server of our own (so its sockets are bounded before
 * any is upgraded) and the WebSocket server on it, with admission by the per-peer
 * budgets at the upgrade (docs/security.md "Budgets"). Every accepted socket is handed
 * to `onConnection`; the handshake is the session's.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { WebSocketServer, type WebSocket } from 'ws'
import type { TlsFiles } from '../contracts.js'
import { MAX_FRAME_BYTES, MAX_INBOUND_SOCKETS } from '../limits.js'
import type { PeerBudget } from './peer-budget.js'

export interface ListenerInit {
  listen: { host: string, port: number }
  tls: TlsFiles | undefined
  handshakeTimeoutMs: number
  budget: PeerBudget
  /** Inbound sessions still open, and how many of them are still in the handshake. */
  inbound: () => { open: number, pending: number }
  onConnection: (ws: WebSocket, remoteAddress: string) => void
}

type AdmitDone = (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void

export class Listener {
  readonly #init: ListenerInit
  #server: WebSocketServer | undefined
  #http: HttpServer | HttpsServer | undefined
  #port = 0

  constructor (init: ListenerInit) {
    this.#init = init
  }

  /** The port actually listened on. */
  get port (): number { return this.#port }

  async start (): Promise<void> {
    const http = this.#createHttp()
    this.#http = http
    const server = new WebSocketServer({ maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false, verifyClient: this.#admit, server: http })
    this.#server = server
    // ws re-emits the HTTP server's errors (EADDRINUSE) on itself: without a listener that is
    // an uncaught crash instead of the rejected listen below.
    server.on('error', () => {})
    const { host, port } = this.#init.listen
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(port, host, () => { http.off('error', reject); resolve() })
    })
    http.on('error', () => {})
    const address = http.address()
    this.#port = typeof address === 'object' && address !== null ? address.port : port
    server.on('connection', (ws, req) => { this.#init.onConnection(ws, req.socket.remoteAddress ?? '') })
  }

  /** Closes the servers and every socket that never upgraded. */
  async stop (): Promise<void> {
    await new Promise<void>(resolve => { this.#server?.close(() => resolve()) ?? resolve() })
    const http = this.#http
    if (http === undefined) return
    await new Promise<void>(resolve => {
      http.close(() => resolve())
      http.closeAllConnections() // sockets that never upgraded would hold close() until their timeout
    })
  }

  #createHttp (): HttpServer | HttpsServer {
    const { tls, handshakeTimeoutMs } = this.#init
    // Plain HTTP requests are not ours to serve: 426, as ws answers them on its own servers.
    const upgradeRequired = (_req: IncomingMessage, res: ServerResponse): void => { res.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade Required') }
    // Checked every second rather than node's 30 s, so a silent socket goes within the timeout.
    const httpOptions = { connectionsCheckingInterval: Math.min(1_000, handshakeTimeoutMs) }
    let http: HttpServer | HttpsServer
    if (tls?.cert !== undefined && tls.key !== undefined) {
      // With a cluster CA, TLS is mutual: a dialer without a certificate the CA signed is
      // refused before any WebSocket exists (the HMAC handshake still follows).
      const mutual = tls.ca !== undefined
      http = createHttpsServer({ ...httpOptions, cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: mutual, rejectUnauthorized: mutual }, upgradeRequired)
    } else {
      http = createHttpServer(httpOptions, upgradeRequired)
    }
    // TCP sockets are bounded before any of them is upgraded (docs/security.md "Budgets"):
    // at most MAX_INBOUND_SOCKETS at once, and the upgrade request within the handshake timeout.
    http.maxConnections = MAX_INBOUND_SOCKETS
    http.headersTimeout = handshakeTimeoutMs
    http.requestTimeout = handshakeTimeoutMs
    return http
  }

  /** Per-peer budgets, checked at the HTTP upgrade before a WebSocket exists (peer-budget.ts). */
  readonly #admit = (info: { req: { socket: { remoteAddress?: string } } }, done: AdmitDone): void => {
    const { open, pending } = this.#init.inbound()
    const verdict = this.#init.budget.admit(info.req.socket.remoteAddress ?? '', open, pending)
    if (verdict.ok) return done(true)
    // Not an event per refusal: a flood of upgrades must not become a flood of log lines.
    const headers: Record<string, string> = verdict.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.ceil(verdict.retryAfterMs / 1000)) }
    done(false, verdict.status, verdict.code, headers)
  }
}
