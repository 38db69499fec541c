/**
 * A benchmark node in a child process of its own (test/bench/replication-node.ts),
 * driven over IPC: `call(cmd, args)` resolves with the node's answer.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { unitEnvironment } from './unit-env.js'
import { benchNodeArgs } from '../helpers/daemon.js'

/** How long a node may take to exit when asked, in ms. */
const EXIT_GRACE_MS = 5_000

interface Pending { resolve: (v: unknown) => void, reject: (e: Error) => void }

export class NodeProc {
  readonly child: ChildProcess
  readonly #pending = new Map<number, Pending>()
  #next = 0

  /**
   * Every node process runs with the shipped systemd unit's environment (unit-env.ts), as
   * an admin's node does. `BENCH_NODE_ARGS` (e.g. `--cpu-prof`) is passed to each, to profile them.
   */
  constructor (readonly name: string) {
    const execArgv = benchNodeArgs()
    const env = { ...process.env, ...unitEnvironment() }
    this.child = fork(fileURLToPath(new URL('./replication-node.js', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv, env })
    this.child.on('message', (m: { id: number, ok: boolean, result?: unknown, error?: string }) => {
      const p = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.ok) p?.resolve(m.result)
      else p?.reject(new Error(`${name}: ${m.error ?? 'failed'}`))
    })
    this.child.on('error', err => {
      for (const p of this.#pending.values()) p.reject(err)
      this.#pending.clear()
    })
    this.child.on('exit', () => {
      for (const p of this.#pending.values()) p.reject(new Error(`${name} exited`))
      this.#pending.clear()
    })
  }

  async call<T = any> (cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    if (!this.child.connected) throw new Error(`${this.name} is not running`)
    return await new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.child.send({ id, cmd, ...args })
    })
  }

  /** Asks the node to exit (so a `--cpu-prof` profile gets written), SIGKILL after EXIT_GRACE_MS. */
  async kill (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_GRACE_MS)
      this.child.once('exit', () => { clearTimeout(timer); resolve() })
      if (this.child.connected) this.child.disconnect() // the node exits when its IPC channel closes
      else this.child.kill('SIGKILL')
    })
  }
}
