import { createServer, connect, type Server, type Socket } from 'node:net'

/** Bytes a delayed direction may hold before its source is paused (backpressure). */
export const PROXY_MAX_QUEUED_BYTES = 4 * 1024 * 1024

export interface LinkProxyOptions {
  /** Where connections are forwarded: the real listener of a node. */
  target: { host: string, port: number }
  /** Address to listen on; port 0 picks a free one (see `port`). */
  listen?: { host: string, port: number }
  /** Extra one-way latency added to every chunk, in ms. */
  delayMs?: number
}

/**
 * One direction of one link: a loopback TCP proxy in front of a node's peer listener.
 * The harness controls it, so a partition is a real broken connection:
 * - `cut()` destroys every open connection and refuses new ones (accepted, then
 *   destroyed at once, so the dialer sees a reset, as with a dead route);
 * - `heal()` lets connections through again;
 * - `setDelay(ms)` adds latency to every chunk, in both directions, keeping order.
 */
export class LinkProxy {
  readonly #target: { host: string, port: number }
  readonly #listen: { host: string, port: number }
  readonly #pairs = new Set<Pair>()
  #server: Server | undefined
  #cut = false
  #delayMs: number
  /** Connections accepted and forwarded since start. */
  accepted = 0
  /** Connections refused because the link was cut. */
  refused = 0
  /** Open connections broken by `cut()`. */
  broken = 0

  constructor (options: LinkProxyOptions) {
    this.#target = options.target
    this.#listen = options.listen ?? { host: '127.0.0.1', port: 0 }
    this.#delayMs = options.delayMs ?? 0
  }

  get port (): number {
    const address = this.#server?.address()
    if (address === null || address === undefined || typeof address === 'string') throw new Error('proxy is not listening')
    return address.port
  }

  get isCut (): boolean {
    return this.#cut
  }

  get delayMs (): number {
    return this.#delayMs
  }

  /** Open connections right now. */
  get connections (): number {
    return this.#pairs.size
  }

  async start (): Promise<void> {
    if (this.#server !== undefined) return
    const server = createServer({ noDelay: true }, socket => { this.#accept(socket) })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#listen.port, this.#listen.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  }

  /** Idempotent: closes the listener and every connection. */
  async stop (): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    for (const pair of this.#pairs) pair.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  cut (): void {
    this.#cut = true
    this.broken += this.#pairs.size
    for (const pair of this.#pairs) pair.destroy()
  }

  heal (): void {
    this.#cut = false
  }

  setDelay (ms: number): void {
    if (!(ms >= 0)) throw new TypeError('delay must be >= 0 ms')
    this.#delayMs = ms
  }

  #accept (client: Socket): void {
    client.on('error', () => {})
    if (this.#cut || this.#server === undefined) {
      this.refused++
      client.destroy()
      return
    }
    this.accepted++
    const upstream = connect({ host: this.#target.host, port: this.#target.port, noDelay: true })
    upstream.on('error', () => {})
    const pair = new Pair(client, upstream, () => this.#delayMs, () => { this.#pairs.delete(pair) })
    this.#pairs.add(pair)
  }
}

/** Two sockets forwarded into each other; either one failing or closing takes both down. */
class Pair {
  #closed = false

  constructor (readonly a: Socket, readonly b: Socket, delay: () => number, onClose: () => void) {
    const close = (): void => {
      if (this.#closed) return
      this.#closed = true
      this.a.destroy()
      this.b.destroy()
      onClose()
    }
    for (const socket of [a, b]) {
      socket.once('close', close)
      socket.once('error', close)
    }
    forward(a, b, delay)
    forward(b, a, delay)
  }

  destroy (): void {
    // Reset rather than FIN: a cut link must look like a dead route, not a polite close.
    for (const socket of [this.a, this.b]) {
      if (!socket.destroyed) socket.resetAndDestroy()
    }
  }
}

/** Copies `from` into `to`, each chunk held back by the current delay, order kept. */
function forward (from: Socket, to: Socket, delay: () => number): void {
  const queue: Array<{ due: number, chunk: Buffer }> = []
  let queuedBytes = 0
  let timer: NodeJS.Timeout | undefined
  let ended = false

  const flush = (): void => {
    timer = undefined
    const now = Date.now()
    while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
      const { chunk } = queue.shift() as { due: number, chunk: Buffer }
      queuedBytes -= chunk.length
      if (!to.destroyed) to.write(chunk)
    }
    if (queuedBytes < PROXY_MAX_QUEUED_BYTES && from.isPaused()) from.resume()
    if (queue.length > 0) {
      timer = setTimeout(flush, (queue[0] as { due: number }).due - now)
    } else if (ended && !to.destroyed) {
      to.end()
    }
  }

  from.on('data', (chunk: Buffer) => {
    const ms = delay()
    if (ms === 0 && queue.length === 0) {
      if (!to.write(chunk)) {
        from.pause()
        to.once('drain', () => from.resume())
      }
      return
    }
    queue.push({ due: Date.now() + ms, chunk })
    queuedBytes += chunk.length
    if (queuedBytes >= PROXY_MAX_QUEUED_BYTES) from.pause()
    if (timer === undefined) timer = setTimeout(flush, ms)
  })
  from.on('end', () => {
    ended = true
    if (queue.length === 0 && !to.destroyed) to.end()
  })
  from.on('close', () => {
    if (timer !== undefined) clearTimeout(timer)
  })
}
