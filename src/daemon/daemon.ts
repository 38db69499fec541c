/**
 * One marksync node: the store, the replicator, the HTTP API and the purge schedule,
 * wired together and logged.
 *
 * start(): open the store (a locked data dir fails here) → start the replicator →
 * start the API → log "ready". stop(): stop the API first (no new requests; in-flight
 * writes finish and are answered), then the purge schedule, the replicator (closes
 * peer sessions), and last the store (waits for queued writes, closes LevelDB).
 */
import { membersOf } from '../config/index.js'
import type { EventEmitter } from 'node:events'
import type { NodeConfig } from '../config/load.js'
import { ApiServer } from '../api/server.js'
import type { WallClock } from '../hlc.js'
import type { Logger } from '../log.js'
import { Metrics } from '../metrics.js'
import type { PeerStatus, PurgeResult } from '../contracts.js'
import type { ReplicatorApi, ReplicatorOptions } from '../replication/api.js'
import { Store } from '../store/index.js'
import type { StoreFault } from '../store/fault.js'
import { openStore, storeOptions } from './open-store.js'
import { Purger } from './purger.js'
import { countersOf, peerLagMs, type StatusOverview } from '../api/status.js'
import type { ApiBackend } from '../api/routes.js'
import { OriginView } from './origin-view.js'
import { Throughput } from './throughput.js'
import { OffsetHistory } from './offset-history.js'
import { startBridge } from '../bridge/start.js'
import type { DovecotBridge } from '../bridge/bridge.js'
import { clockGateFor, type ClockGate } from './clock-gate.js'

/** Where the daemon gets its replicator; tests may run a node without one. */
export type ReplicatorFactory = (options: ReplicatorOptions) => ReplicatorApi

export interface DaemonOptions {
  config: NodeConfig
  logger: Logger
  wallClock?: WallClock
  /** Undefined runs the node without replication (API and store only). */
  createReplicator?: ReplicatorFactory
}

/** Listens to one typed event of `emitter`; returns the unsubscription. */
function listen<T extends Record<keyof T, unknown[]>, K extends keyof T & string> (emitter: EventEmitter<T>, event: K, fn: (...args: T[K]) => void): () => void {
  // Node's typed `on` cannot be called with a still-generic event name: the plain emitter is the same object.
  const plain = emitter as unknown as EventEmitter
  const listener = fn as (...args: unknown[]) => void
  plain.on(event, listener)
  return () => { plain.off(event, listener) }
}

export class Daemon {
  readonly #options: DaemonOptions
  readonly #log: Logger
  #store: Store | undefined
  #replicator: ReplicatorApi | undefined
  #api: ApiServer | undefined
  #purger: Purger | undefined
  #metrics: Metrics | undefined
  #throughput: Throughput | undefined
  readonly #origins = new OriginView()
  readonly #offsets = new OffsetHistory()
  #bridge: DovecotBridge | undefined
  #clockGate: ClockGate | undefined
  /** Unsubscriptions of every listener the daemon added (run at teardown). */
  #listeners: Array<() => void> = []
  #stopping: Promise<void> | undefined

  constructor (options: DaemonOptions) {
    this.#options = options
    this.#log = options.logger
  }

  get store (): Store | undefined { return this.#store }
  get apiUrl (): string | undefined { return this.#api?.url }
  get peerPort (): number | undefined { return this.#replicator?.port }

  peers (): PeerStatus[] {
    return this.#replicator?.status() ?? []
  }

  async start (): Promise<void> {
    const { config, logger: log } = this.#options
    const { node, mesh } = config
    // "starting", not "started": a start that then fails must not look like one that worked ("ready" is the success).
    log.info({ event: 'starting', cluster: mesh.cluster, dataDir: node.dataDir, peers: config.peers.map(p => p.id), durability: node.settings.durability }, 'starting')
    try {
      await this.#startStore()
      this.#startReplicator()
      await this.#replicator?.start()
      // The purger exists before the API (POST /v1/purge uses it); its schedule starts last.
      this.#purger = new Purger({
        intervalMs: node.settings.purgeIntervalMs,
        purge: async () => await (this.#store as Store).purgeExpired(),
        onPurge: (result, trigger, durationMs) => this.#onPurge(result, trigger, durationMs),
        onError: err => log.error({ event: 'purge-failed', err }, 'scheduled purge failed')
      })
      await this.#startApi()
      this.#purger.start()
      this.#overview().throughput.start()
      this.#bridge = await startBridge(config, this.#store as Store, this.#metrics as Metrics, log)
    } catch (err) {
      await this.#teardown()
      throw err
    }
    log.info({ event: 'ready', api: this.apiUrl, peerPort: this.peerPort ?? null, replication: this.#replicator !== undefined }, 'ready')
  }

  async #startStore (): Promise<void> {
    const { node } = this.#options.config
    const store = new Store(storeOptions(node, this.#options.wallClock))
    await openStore(store, node.dataDir)
    this.#store = store
    this.#metrics = new Metrics({
      peers: () => this.peers(),
      seq: () => ({ lastSeq: store.lastSeq, oldestSeq: store.oldestSeq }),
      clockCorrectionMs: () => store.clock.correctionMs,
      storeFailing: () => store.fault !== null,
      peerLagMs: async peer => await peerLagMs(store, peer, store.clock.wallTime())
    })
    this.#on(store, 'entered', entries => {
      this.#metrics?.entered(entries)
      this.#origins.entered(entries)
    })
    this.#on(store, 'store-fault', (fault: StoreFault) => {
      this.#metrics?.storeFault(fault.code)
      this.#log.error({ event: 'store-fault', ...fault }, 'the store cannot write: writes are refused until it recovers')
    })
    this.#on(store, 'store-recovered', e => this.#log.warn({ event: 'store-recovered', ...e }, 'the store was reopened and writes again'))
    // The replicator re-emits the store's clock jumps; listen here only when there is none.
    if (this.#options.createReplicator === undefined) {
      this.#on(store, 'clock-jump', jump => {
        this.#metrics?.clockJump()
        this.#log.warn({ event: 'clock-jump', ...jump }, 'wall clock jumped')
      })
    }
  }

  #startReplicator (): void {
    const { config, createReplicator } = this.#options
    if (createReplicator === undefined) {
      this.#log.warn({ event: 'replication-disabled' }, 'this build has no replicator: serving the API only')
      return
    }
    const { node, mesh } = config
    const s = node.settings
    const options: ReplicatorOptions = {
      store: this.#store as Store,
      cluster: mesh.cluster,
      nodeId: node.id,
      secret: config.secret,
      listen: node.listen,
      peers: config.peers,
      links: mesh.links.map(link => link.nodes),
      maxClockSkewMs: s.maxClockSkewMs,
      heartbeatMs: s.heartbeatMs,
      batchEntries: s.batchEntries,
      batchBytes: s.batchBytes,
      window: s.window,
      antiEntropyIntervalMs: s.antiEntropyIntervalMs,
      members: membersOf(mesh)
    }
    if (config.tls !== undefined) options.tls = config.tls
    if (config.acceptSecrets.length > 0) options.acceptSecrets = config.acceptSecrets
    const replicator = createReplicator(options)
    this.#replicator = replicator
    this.#logEvents(replicator)
    this.#clockGate = clockGateFor(config.peers.length > 0, this.#log)
    this.#on(replicator, 'clock-checked', () => this.#clockGate?.checked())
  }
  /** Logs the replicator's events and feeds them to the metrics. */
  #logEvents (replicator: ReplicatorApi): void {
    const log = this.#log
    const m = (): Metrics | undefined => this.#metrics
    this.#on(replicator, 'peer-connected', e => { m()?.peerEvent('connected'); log.info({ event: 'peer-connected', ...e }, 'peer connected') })
    this.#on(replicator, 'peer-disconnected', e => { m()?.peerEvent('disconnected'); log.info({ event: 'peer-disconnected', ...e }, 'peer disconnected') })
    this.#on(replicator, 'peer-rejected', e => { m()?.peerEvent('rejected'); log.warn({ event: 'peer-rejected', ...e }, 'peer session rejected') })
    this.#on(replicator, 'peer-skewed', e => { m()?.peerEvent('skewed'); log.warn({ event: 'peer-skewed', ...e }, 'peer clock beyond maxClockSkew: its batches are refused until it is sane') })
    this.#on(replicator, 'peer-clock-ok', e => log.info({ event: 'peer-clock-ok', ...e }, 'peer clock back within maxClockSkew'))
    this.#on(replicator, 'state-transfer', e => log.info({ event: 'state-transfer', ...e }, 'state transfer'))
    this.#on(replicator, 'peer-held', e => log.warn({ event: 'peer-held', ...e }, 'holding the peer\'s batches: its clock or stamps are ahead of ours'))
    this.#on(replicator, 'peer-reborn', e => log.warn({ event: 'peer-reborn', ...e }, 'the peer lost state (a wiped or restored data directory): it gets the whole state'))
    this.#on(replicator, 'restored-copy', e => log.warn({ event: 'restored-copy', ...e }, 'a peer acknowledged more of our feed than we hold: this data directory is an older copy'))
    this.#on(replicator, 'reincarnated', e => log.warn({ event: 'reincarnated', ...e }, 'new incarnation: sessions restart and the peers send the whole state'))
    this.#on(replicator, 'clock-jump', e => { m()?.clockJump(); log.warn({ event: 'clock-jump', ...e }, 'wall clock jumped') })
    this.#on(replicator, 'clock-corrected', e => log.warn({ event: 'clock-corrected', ...e }, 'peers agree this node\'s clock is off: local timestamps corrected'))
    this.#on(replicator, 'batch-applied', e => { m()?.batchApplied(e); log.debug({ event: 'batch-applied', ...e }, 'batch applied') })
    this.#on(replicator, 'anti-entropy-round', e => {
      m()?.antiEntropyRound(e)
      if (e.users === 0) log.info({ event: 'anti-entropy-round', ...e }, 'anti-entropy round: nothing differs')
      else log.warn({ event: 'anti-entropy-divergence', ...e }, 'anti-entropy found users whose winners differ, and repaired them')
    })
    this.#on(replicator, 'anti-entropy-failed', e => { m()?.antiEntropyRound(undefined); log.warn({ event: 'anti-entropy-failed', ...e }, 'anti-entropy round failed') })
    // The contract says peer faults never surface as 'error'; anything that does is logged, not fatal.
    this.#on(replicator, 'error', err => log.error({ event: 'replicator-error', err }, 'replicator error'))
  }

  async #startApi (): Promise<void> {
    const { config } = this.#options
    const store = this.#store as Store
    const metrics = this.#metrics as Metrics
    const options: ConstructorParameters<typeof ApiServer>[0] = {
      host: config.node.api.host,
      port: config.node.api.port,
      backend: {
        store,
        cluster: config.mesh.cluster,
        retentionMs: config.node.settings.retentionMs,
        peers: () => this.peers(),
        purge: async () => await (this.#purger as Purger).run('api'),
        metrics: async () => await metrics.text(),
        overview: () => this.#overview(),
        ...(config.node.dovecot !== undefined ? { bridge: () => this.#bridge?.status() ?? { state: 'starting' } } : {}),
        ...(this.#replicator === undefined ? {} : replicationBackend(this.#replicator, this.#clockGate as ClockGate))
      },
      onRequest: (route, status) => metrics.httpRequest(route, status),
      onError: (err, route) => this.#log.error({ event: 'api-error', route, err }, 'API request failed')
    }
    if (config.apiToken !== undefined) options.token = config.apiToken
    const api = new ApiServer(options)
    await api.start()
    this.#api = api
  }

  /** A peer's clock offset near `time`; a reading taken now too, so a change entered moments ago has one. */
  #offsetAt (store: Store, peer: string, time: number): number | null {
    this.#offsets.record(this.peers(), store.clock.wallTime())
    return this.#offsets.at(peer, time)
  }

  /** The mesh file's topology and what this node measured, for /v1/status. */
  #overview (): StatusOverview {
    const { mesh } = this.#options.config
    const store = this.#store as Store
    const throughput = this.#throughput ??= new Throughput({
      read: () => {
        const peers = this.peers()
        this.#offsets.record(peers, store.clock.wallTime())
        return countersOf(store, peers)
      }
    })
    return { nodes: mesh.nodes.map(n => n.id), links: mesh.links.map(l => l.nodes), throughput, origins: this.#origins, offsetAt: (peer, time) => this.#offsetAt(store, peer, time) }
  }

  #onPurge (result: PurgeResult, trigger: string, durationMs: number): void {
    this.#metrics?.purged(result.removed)
    this.#log.info({ event: 'purge', trigger, removed: result.removed, oldestSeq: result.oldestSeq, durationMs }, 'purge')
  }

  #on<T extends Record<keyof T, unknown[]>, K extends keyof T & string> (emitter: EventEmitter<T>, event: K, fn: (...args: T[K]) => void): void {
    this.#listeners.push(listen(emitter, event, fn))
  }

  /** Idempotent; concurrent calls share one stop. */
  async stop (reason = 'stop'): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info({ event: 'stopping', reason }, 'stopping')
      await this.#teardown()
      this.#log.info({ event: 'stopped' }, 'stopped')
    })()
    await this.#stopping
  }

  /** Each step runs even if an earlier one failed: the store must be closed whatever happens. */
  async #teardown (): Promise<void> {
    await this.#safely('bridge', async () => await this.#bridge?.stop())
    await this.#safely('api', async () => await this.#api?.stop())
    await this.#safely('purger', async () => await this.#purger?.stop())
    this.#throughput?.stop()
    await this.#safely('replicator', async () => await this.#replicator?.stop())
    for (const off of this.#listeners) off()
    this.#listeners = []
    await this.#safely('store', async () => await this.#store?.close())
  }

  async #safely (component: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.#log.error({ event: 'stop-failed', component, err }, `stopping the ${component} failed`)
    }
  }
}

/** What the API serves from the replicator: anti-entropy status and repairs, and the clock check at start. */
function replicationBackend (replicator: ReplicatorApi, gate: ClockGate): Pick<ApiBackend, 'antiEntropy' | 'repair' | 'clockChecked'> {
  return {
    clockChecked: async () => await gate.wait(),
    antiEntropy: () => replicator.antiEntropyStatus(),
    repair: async options => await replicator.repair(options)
  }
}
