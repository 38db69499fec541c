import type { LocalChange, LogEntry, Status } from '../../src/types.js'
import { STATUSES } from '../../src/types.js'
import { ApiTransportError, apiRequest } from './api-client.js'
import { Prng } from '../helpers/prng.js'

/** A change the API acknowledged (durable), with the entry it returned. */
export interface AckedChange {
  node: string
  entry: LogEntry
  /** When the acknowledgement arrived (harness clock, ms). */
  ackedAt?: number
}

/** A change sent without an answer: it may or may not have been entered. */
export interface UncertainChange extends LocalChange {
  node: string
  sentAt: number
  reason: string
}

export interface WorkloadTarget {
  id: string
  /** Base URL of the node's HTTP API. */
  api: string
}

export interface WorkloadOptions {
  targets: readonly WorkloadTarget[]
  seed: number
  /** Parallel clients. */
  concurrency?: number
  /** Most requests per second over all clients (bounds the load on shared cores). */
  maxRate?: number
  users?: number
  /** Messages per user that most changes go to, so that conflicts are frequent. */
  hotMessages?: number
  /** Changes per request: 1..batchMax (1 is sent as a single change, not a batch). */
  batchMax?: number
  timeoutMs?: number
  token?: string
}

const DEFAULTS = { concurrency: 4, maxRate: 60, users: 12, hotMessages: 6, batchMax: 4, timeoutMs: 3_000 }
/** Share of requests that go to the hot users and hot messages. */
const HOT_SHARE = 0.8
/** Most requests one workload sends, whatever happens to `stop()` (a bound on the loop's count). */
export const MAX_WORKLOAD_REQUESTS = 2_000_000
/** Cold message ids are drawn from this many per user. */
const COLD_MESSAGES = 400

/**
 * The workload driver: parallel clients posting random status changes to random nodes.
 * It records every acknowledged change with the entry the API returned, every change
 * sent without an answer (in flight when its node died or stopped), and every ack that
 * does not match what was asked (a bug of its own kind).
 */
export class Workload {
  readonly acked: AckedChange[] = []
  readonly uncertain: UncertainChange[] = []
  /** Requests refused at connect (node down): nothing was sent. */
  refused = 0
  /** Requests answered with an HTTP error; `errors` counts them by status and code. */
  readonly errors = new Map<string, number>()
  /** Answers that do not match the request (wrong count, user, message, status or origin). */
  readonly badAcks: string[] = []
  readonly #options: Required<Omit<WorkloadOptions, 'token'>> & { token?: string }
  readonly #rng: Prng
  #running = false
  #workers: Array<Promise<void>> = []
  #nextSlot = 0

  constructor (options: WorkloadOptions) {
    if (options.targets.length === 0) throw new TypeError('workload needs at least one target')
    this.#options = { ...DEFAULTS, ...options }
    this.#rng = new Prng(options.seed)
  }

  /** Requests sent (or tried), whatever their outcome. */
  requests = 0

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#nextSlot = Date.now()
    for (let i = 0; i < this.#options.concurrency; i++) this.#workers.push(this.#work(this.#rng.fork()))
  }

  /** Stops sending and waits for the requests in flight (each bounded by its timeout). */
  async stop (): Promise<void> {
    this.#running = false
    await Promise.all(this.#workers)
    this.#workers = []
  }

  /** One random change, skewed towards a hot set of users and messages. */
  change (rng: Prng): LocalChange {
    const o = this.#options
    const hot = rng.chance(HOT_SHARE)
    const user = `user-${hot ? rng.int(0, Math.min(2, o.users - 1)) : rng.int(0, o.users - 1)}@example.org`
    const n = rng.chance(HOT_SHARE) ? rng.int(0, o.hotMessages - 1) : o.hotMessages + rng.int(0, COLD_MESSAGES)
    // Some ids carry characters that must be percent-encoded in API paths.
    const message = n % 7 === 3 ? `<${n}/x %${n}@mail.example>` : `<${n}@mail.example>`
    const status: Status = rng.pick(STATUSES)
    return { user, message, status }
  }

  async #work (rng: Prng): Promise<void> {
    while (this.#running && this.requests < MAX_WORKLOAD_REQUESTS) {
      await this.#pace()
      if (!this.#running) break
      const target = rng.pick(this.#options.targets)
      const count = rng.int(1, this.#options.batchMax)
      const changes = Array.from({ length: count }, () => this.change(rng))
      await this.send(target, changes)
    }
  }

  /** Waits for this worker's slot so that all workers together stay under maxRate. */
  async #pace (): Promise<void> {
    const interval = 1000 / this.#options.maxRate
    const now = Date.now()
    const slot = Math.max(this.#nextSlot, now)
    this.#nextSlot = slot + interval
    if (slot > now) await new Promise(resolve => setTimeout(resolve, slot - now))
  }

  /** Posts changes to one node and records the outcome. */
  async send (target: WorkloadTarget, changes: LocalChange[]): Promise<void> {
    const body = changes.length === 1 ? changes[0] : { changes }
    const sentAt = Date.now()
    this.requests++
    let status: number
    let answer: unknown
    try {
      const res = await apiRequest(target.api, 'POST', '/v1/changes', body, { timeoutMs: this.#options.timeoutMs, token: this.#options.token })
      status = res.status
      answer = res.body
    } catch (err) {
      if (err instanceof ApiTransportError && err.failure === 'refused') {
        this.refused++
        return
      }
      const reason = err instanceof Error ? err.message : String(err)
      for (const c of changes) this.uncertain.push({ ...c, node: target.id, sentAt, reason })
      return
    }
    if (status !== 200) {
      const code = (answer as { error?: { code?: string } } | undefined)?.error?.code ?? 'none'
      const key = `${status} ${code}`
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1)
      // A server error may come after the write went through; only a 4xx says it did not.
      if (status >= 500) {
        for (const c of changes) this.uncertain.push({ ...c, node: target.id, sentAt, reason: key })
      }
      return
    }
    const entries = (answer as { entries?: unknown } | undefined)?.entries
    if (!Array.isArray(entries) || entries.length !== changes.length) {
      this.badAcks.push(`${target.id}: ${changes.length} changes acknowledged with ${JSON.stringify(answer)}`)
      for (const c of changes) this.uncertain.push({ ...c, node: target.id, sentAt, reason: 'bad ack' })
      return
    }
    changes.forEach((c, i) => {
      const entry = entries[i] as LogEntry
      if (entry?.user !== c.user || entry.message !== c.message || entry.status !== c.status ||
          entry.origin !== target.id || !Number.isSafeInteger(entry.ts)) {
        this.badAcks.push(`${target.id}: asked ${JSON.stringify(c)}, acknowledged ${JSON.stringify(entry)}`)
        this.uncertain.push({ ...c, node: target.id, sentAt, reason: 'bad ack' })
        return
      }
      this.acked.push({ node: target.id, entry, ackedAt: Date.now() })
    })
  }
}
