import { createWriteStream, type WriteStream } from 'node:fs'
import { cp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startDaemon, type DaemonProcess, type TestMesh } from '../helpers/daemon.js'

/** How long a (re)started node may take to log "ready", in ms (a loaded 2-core machine was seen taking 20 s). */
export const NODE_READY_TIMEOUT_MS = 60_000
/** How long a clean stop may take before SIGKILL, in ms. */
export const NODE_STOP_TIMEOUT_MS = 10_000

export type NodeState = 'down' | 'starting' | 'up' | 'paused'

/**
 * One daemon of the chaos mesh, as the harness drives it: start, SIGKILL, SIGSTOP/SIGCONT,
 * clock offset. Operations on one node run one after another (a queue), so a fault that
 * starts while the previous one's restart is still in progress waits for it. Every process
 * is a child of the harness and is known by pid, so `killNow()` can end it synchronously
 * from an exit handler. The log of every incarnation is appended to `logFile`.
 */
export class ChaosNode {
  readonly id: string
  readonly api: string
  readonly logFile: string
  readonly clockFile: string
  state: NodeState = 'down'
  /** Incarnations started so far. */
  starts = 0
  /** When this node's data was wiped or replaced by an older copy (harness clock, ms). */
  readonly restoredAt: number[] = []
  readonly dataDir: string
  #proc: DaemonProcess | undefined
  #log: WriteStream | undefined
  #queue: Promise<unknown> = Promise.resolve()

  /**
   * @param bin the `marksync` entry point to run (the harness runs a snapshot of the build,
   *   so a rebuild during a run cannot change the code of a restarted node).
   */
  constructor (readonly mesh: TestMesh, id: string, logDir: string, readonly bin: string) {
    const node = mesh.nodes[id]
    if (node === undefined) throw new TypeError(`no node ${id} in the mesh`)
    this.id = id
    this.api = node.api
    this.dataDir = node.dataDir
    this.logFile = join(logDir, `${id}.log`)
    this.clockFile = join(logDir, `${id}.clock-offset`)
  }

  get pid (): number | undefined {
    return this.#proc?.running === true ? this.#proc.pid : undefined
  }

  /** Runs `op` after every operation queued before it; a failure is passed on, not swallowed. */
  async #enqueue<T> (op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op)
    this.#queue = next.catch(() => {})
    return await next
  }

  async start (): Promise<void> {
    await this.#enqueue(async () => { await this.#start() })
  }

  async #start (): Promise<void> {
    if (this.#proc?.running === true) return
    if (this.#log === undefined) {
      this.#log = createWriteStream(this.logFile, { flags: 'a' })
      this.#log.on('error', () => {})
    }
    this.state = 'starting'
    this.starts++
    this.#log.write(`--- harness: start #${this.starts} of ${this.id} at ${new Date().toISOString()}\n`)
    // The harness kills its nodes itself (killNow() also from an exit handler): no teardown here.
    const proc = await startDaemon(undefined, this.mesh, this.id, { bin: this.bin, clockOffsetFile: this.clockFile, waitReady: false })
    this.#proc = proc
    const log = this.#log
    const write = (text: string): void => { if (!log.writableEnded) log.write(text) }
    proc.child.stdout?.on('data', write)
    proc.child.stderr?.on('data', write)
    void proc.exited.then(exit => {
      write(`--- harness: ${this.id} pid ${proc.pid} exited ${JSON.stringify(exit)} at ${new Date().toISOString()}\n`)
      if (this.#proc === proc) this.state = 'down'
    })
    await proc.ready(NODE_READY_TIMEOUT_MS)
    if (proc.running) this.state = 'up'
  }

  /** SIGKILL: a crash; only what was durable survives. */
  async kill (): Promise<void> {
    await this.#enqueue(async () => {
      const proc = this.#proc
      if (proc === undefined || !proc.running) return
      await proc.kill()
      this.state = 'down'
    })
  }

  /** A lost disk: SIGKILL, then the data directory is deleted. The node stays down. */
  async wipe (): Promise<void> {
    await this.#enqueue(async () => {
      await this.#proc?.kill()
      this.state = 'down'
      await rm(this.dataDir, { recursive: true, force: true })
      this.restoredAt.push(Date.now())
    })
  }

  /** A backup as an admin takes one: stop the node, copy its data directory, start it again. */
  async backup (): Promise<void> {
    await this.#enqueue(async () => {
      if (this.#proc?.running === true) await this.#proc.stop('SIGTERM', NODE_STOP_TIMEOUT_MS)
      this.state = 'down'
      await rm(this.#backupDir, { recursive: true, force: true })
      await cp(this.dataDir, this.#backupDir, { recursive: true })
      await this.#start()
    })
  }

  /** The backup restored: SIGKILL, the data directory replaced by the copy, start. */
  async restore (): Promise<void> {
    await this.#enqueue(async () => {
      await this.#proc?.kill()
      this.state = 'down'
      await rm(this.dataDir, { recursive: true, force: true })
      await cp(this.#backupDir, this.dataDir, { recursive: true })
      this.restoredAt.push(Date.now())
      await this.#start()
    })
  }

  get #backupDir (): string {
    return `${this.dataDir}.backup`
  }

  async pause (): Promise<void> {
    await this.#enqueue(async () => {
      if (this.#proc?.running !== true) return
      process.kill(this.#proc.pid, 'SIGSTOP')
      this.state = 'paused'
    })
  }

  async resume (): Promise<void> {
    await this.#enqueue(async () => {
      if (this.#proc?.running !== true) return
      process.kill(this.#proc.pid, 'SIGCONT')
      this.state = 'up'
    })
  }

  /** The test-only clock offset the daemon re-reads (MARKSYNC_TEST_CLOCK_OFFSET_FILE), in ms. */
  async setClockOffset (ms: number): Promise<void> {
    await writeFile(this.clockFile, String(Math.round(ms)))
  }

  /** Clean stop (SIGCONT first: a stopped process cannot act on SIGTERM). */
  async stop (): Promise<void> {
    await this.#enqueue(async () => {
      const proc = this.#proc
      if (proc !== undefined && proc.running) {
        try { process.kill(proc.pid, 'SIGCONT') } catch {}
        await proc.stop('SIGTERM', NODE_STOP_TIMEOUT_MS)
      }
      this.state = 'down'
      await this.#closeLog()
    })
  }

  /** Synchronous last resort for exit paths: SIGKILL by pid, whatever state the node is in. */
  killNow (): void {
    const pid = this.pid
    if (pid === undefined) return
    try { process.kill(pid, 'SIGKILL') } catch {}
  }

  async #closeLog (): Promise<void> {
    const log = this.#log
    this.#log = undefined
    if (log !== undefined) await new Promise<void>(resolve => log.end(() => resolve()))
  }

  /** Every parsed log line of the current incarnation. */
  get logs (): ReadonlyArray<Record<string, unknown>> {
    return this.#proc?.logs ?? []
  }
}
