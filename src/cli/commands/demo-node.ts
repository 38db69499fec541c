import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import type { MeshNode } from '../../config/mesh.js'
import type { Io } from '../io.js'
import { apiUrl } from '../target.js'

/**
 * One node of `marksync demo`: a child process running `marksync start --exit-with-stdin`.
 * The demo holds the write end of the child's stdin; when the demo dies in any way
 * (Ctrl-C, its terminal closing, SIGKILL) the pipe closes and the node stops cleanly, so
 * no node outlives its demo. The node's JSON log goes straight to DIR/<id>.log (not
 * through the demo, whose death must not break the node's stdout); its stderr, where
 * start failures are told in one line, is shown by the demo as "[id] ...".
 */
/** How long each node may take to answer its health check, in ms. */
export const DEMO_READY_TIMEOUT_MS = 30_000
/** Between two health checks while a node starts, in ms. */
const DEMO_READY_POLL_MS = 100
/** How long a node may take to stop on SIGTERM before it is killed, in ms. */
const DEMO_STOP_TIMEOUT_MS = 15_000

export class DemoNode {
  readonly id: string
  readonly api: string
  readonly logFile: string
  readonly #child: ChildProcess
  readonly exited: Promise<number | null>
  /** The last line the node wrote on stderr: why it failed to start. */
  lastError = ''

  constructor (bin: string, meshFile: string, node: MeshNode, dir: string, io: Io) {
    this.id = node.id
    this.api = apiUrl(node.api)
    this.logFile = join(dir, `${node.id}.log`)
    const log = openSync(this.logFile, 'a')
    // Own process group: a terminal's Ctrl-C reaches only the demo, which then stops each node once.
    this.#child = spawn(process.execPath, [bin, 'start', '--config', meshFile, '--node', node.id, '--exit-with-stdin'], { stdio: ['pipe', log, 'pipe'], detached: true })
    closeSync(log)
    this.#child.stdin?.on('error', () => {}) // the node gone first: nothing to tell it
    this.#child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.trimEnd().split('\n')) {
        this.lastError = line
        io.err(`[${node.id}] ${line}`)
      }
    })
    this.exited = new Promise(resolve => this.#child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1))))
  }

  get pid (): number | undefined { return this.#child.pid }
  get running (): boolean { return this.#child.exitCode === null && this.#child.signalCode === null }
  /** "code 1", "signal SIGTERM". */
  get how (): string { return this.#child.signalCode !== null ? `signal ${this.#child.signalCode}` : `code ${String(this.#child.exitCode)}` }

  /** Resolves when the node answers /v1/health as itself; rejects if it exits first or takes too long. */
  async ready (): Promise<void> {
    const deadline = Date.now() + DEMO_READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`node ${this.id} exited with ${this.how}${this.lastError === '' ? '' : `: ${this.lastError}`}`)
      try {
        const response = await fetch(`${this.api}/v1/health`, { signal: AbortSignal.timeout(1_000) })
        if (response.ok && ((await response.json()) as { node?: string }).node === this.id) return
      } catch {}
      await new Promise(resolve => setTimeout(resolve, DEMO_READY_POLL_MS))
    }
    throw new Error(`node ${this.id}: no answer on ${this.api} within ${DEMO_READY_TIMEOUT_MS} ms (see ${this.logFile})`)
  }

  /** SIGTERM and wait (SIGKILL after DEMO_STOP_TIMEOUT_MS); the exit code, or null if it was already gone. */
  async stop (): Promise<number | null> {
    if (!this.running) return null
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), DEMO_STOP_TIMEOUT_MS)
    this.#child.kill('SIGTERM')
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** Last resort when the demo itself exits abruptly. */
  kill (): void {
    if (this.running) this.#child.kill('SIGKILL')
  }
}
