/**
 * Process-level test helpers: write a mesh file whose ports were free a moment ago,
 * spawn real `node bin/marksync.js start` daemons, wait for their "ready" log line,
 * run the CLI, call the HTTP API, and stop or kill what was started (by pid).
 * Used by the daemon/CLI tests and by the chaos harness.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Teardown } from './teardown.js'
import { freePort } from './tmp.js'

export type { Teardown } from './teardown.js'

/** The repository root (holds bin/marksync.js), found from this file whether it runs from test/ or dist/test/. */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bin', 'marksync.js')) && existsSync(join(dir, 'package.json'))) return dir
    dir = dirname(dir)
  }
  throw new Error('cannot find the repository root from ' + import.meta.url)
})()
export const BIN = join(ROOT, 'bin', 'marksync.js')

export interface TestNode {
  id: string
  peerPort: number
  apiPort: number
  /** `ws://127.0.0.1:<peerPort>` */
  peerUrl: string
  /** `http://127.0.0.1:<apiPort>` */
  api: string
  dataDir: string
}

export interface MeshOptions {
  /** Node ids, e.g. ['a', 'b', 'c']. */
  nodes: string[]
  /** "full" (default), a raw links array, or a function of the nodes (to point links at proxies). */
  links?: 'full' | unknown[] | ((nodes: Record<string, TestNode>) => unknown[])
  /** Mesh-wide settings, e.g. { heartbeat: '200ms', durability: 'relaxed' }. */
  settings?: Record<string, unknown>
  /** Per-node settings overrides. */
  nodeSettings?: Record<string, Record<string, unknown>>
  cluster?: string
  /** If set, written to a file and required by every API route but /v1/health. */
  apiToken?: string
  /** Cluster secret (default: a fixed 32-byte test secret). */
  secret?: string
}

export interface TestMesh {
  dir: string
  /** The mesh file. */
  file: string
  cluster: string
  secretFile: string
  apiToken?: string
  ids: string[]
  nodes: Record<string, TestNode>
  /** The JSON written, to change and write again with `rewrite`. */
  json: Record<string, unknown>
  rewrite (json: Record<string, unknown>): Promise<void>
}

export async function writeMesh (dir: string, options: MeshOptions): Promise<TestMesh> {
  await mkdir(dir, { recursive: true })
  const nodes: Record<string, TestNode> = {}
  for (const id of options.nodes) {
    const peerPort = await freePort()
    const apiPort = await freePort()
    nodes[id] = {
      id,
      peerPort,
      apiPort,
      peerUrl: `ws://127.0.0.1:${peerPort}`,
      api: `http://127.0.0.1:${apiPort}`,
      dataDir: join(dir, 'data', id)
    }
  }
  const secretFile = join(dir, 'cluster.secret')
  await writeFile(secretFile, (options.secret ?? 'test-secret-0123456789abcdef0123') + '\n', { mode: 0o600 })
  const settings: Record<string, unknown> = { heartbeat: '250ms', ...options.settings }
  if (options.apiToken !== undefined) {
    await writeFile(join(dir, 'api.token'), options.apiToken, { mode: 0o600 })
    settings.apiToken = { file: 'api.token' }
  }
  const links = typeof options.links === 'function' ? options.links(nodes) : options.links ?? 'full'
  const cluster = options.cluster ?? 'test'
  const json: Record<string, unknown> = {
    cluster,
    secret: { file: 'cluster.secret' },
    links,
    settings,
    nodes: options.nodes.map(id => {
      const node = nodes[id] as TestNode
      const entry: Record<string, unknown> = { id, peerUrl: node.peerUrl, api: `127.0.0.1:${node.apiPort}`, dataDir: `data/${id}` }
      const own = options.nodeSettings?.[id]
      if (own !== undefined) entry.settings = own
      return entry
    })
  }
  const file = join(dir, 'mesh.json')
  const mesh: TestMesh = {
    dir,
    file,
    cluster,
    secretFile,
    ids: [...options.nodes],
    nodes,
    json,
    async rewrite (next) {
      mesh.json = next
      await writeFile(file, JSON.stringify(next, null, 2))
    }
  }
  if (options.apiToken !== undefined) mesh.apiToken = options.apiToken
  await mesh.rewrite(json)
  return mesh
}

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

/** A log line of the daemon (pino JSON). */
export type LogLine = Record<string, unknown> & { event?: string, msg?: string }

export class DaemonProcess {
  readonly id: string
  readonly child: ChildProcess
  readonly pid: number
  /** Every JSON log line so far, parsed. */
  readonly logs: LogLine[] = []
  stdout = ''
  stderr = ''
  exit: Exit | undefined
  readonly exited: Promise<Exit>
  readonly #waiters = new Set<() => void>()

  constructor (id: string, child: ChildProcess) {
    this.id = id
    this.child = child
    this.pid = child.pid as number
    let partial = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk
      partial += chunk
      let nl: number
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl)
        partial = partial.slice(nl + 1)
        try {
          this.logs.push(JSON.parse(line) as LogLine)
        } catch {}
      }
      this.#notify()
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk })
    this.exited = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal }
        this.#notify()
        resolve(this.exit)
      })
    })
  }

  #notify (): void {
    for (const fn of this.#waiters) fn()
  }

  get running (): boolean {
    return this.exit === undefined
  }

  /** The first log line (past or future) matching `match`; rejects on exit or after `timeoutMs`. */
  async waitForLog (match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const line = this.logs.find(match)
        if (line !== undefined) return done(() => resolve(line))
        if (this.exit !== undefined) {
          return done(() => reject(new Error(`node ${this.id} exited (${JSON.stringify(this.exit)}) before the expected log line\nstderr: ${this.stderr.slice(-2000)}\nstdout: ${this.stdout.slice(-2000)}`)))
        }
      }
      const timer = setTimeout(() => done(() => reject(new Error(`node ${this.id}: no matching log line within ${timeoutMs} ms\nstderr: ${this.stderr.slice(-2000)}\nstdout: ${this.stdout.slice(-2000)}`))), timeoutMs)
      const done = (fn: () => void): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        fn()
      }
      this.#waiters.add(check)
      check()
    })
  }

  async ready (timeoutMs = 20_000): Promise<LogLine> {
    return await this.waitForLog(line => line.event === 'ready', timeoutMs)
  }

  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL if it outlives `timeoutMs`. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<Exit> {
    if (this.exit !== undefined) return this.exit
    this.child.kill(signal)
    const timer = setTimeout(() => { if (this.exit === undefined) this.child.kill('SIGKILL') }, timeoutMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGKILL: a crash, nothing flushed beyond what is durable. */
  async kill (): Promise<Exit> {
    return await this.stop('SIGKILL')
  }
}

export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>
  /** Sets MARKSYNC_TEST_CLOCK_OFFSET_FILE (test-only clock offset, in ms, in that file). */
  clockOffsetFile?: string
  /** Wait for the "ready" line (default true). */
  waitReady?: boolean
  readyTimeoutMs?: number
  /** Extra arguments after `start --config FILE --node ID`. */
  args?: string[]
  /** The entry point to run (default bin/marksync.js; the chaos harness runs a snapshot of the build). */
  bin?: string
}

/**
 * Node flags from `BENCH_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=DIR`), given to every
 * daemon and benchmark node process a test or benchmark starts, to profile them.
 */
export function benchNodeArgs (): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(arg => arg !== '')
}

/** Spawns `marksync start` for node `id`; killed (SIGKILL, by pid) at teardown if still running. */
export async function startDaemon (t: Teardown | undefined, mesh: TestMesh, id: string, options: SpawnOptions = {}): Promise<DaemonProcess> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env }
  if (options.clockOffsetFile !== undefined) env.MARKSYNC_TEST_CLOCK_OFFSET_FILE = options.clockOffsetFile
  // Coverage of the child goes where tap collects it (NODE_V8_COVERAGE is inherited).
  const child = spawn(process.execPath, [...benchNodeArgs(), options.bin ?? BIN, 'start', '--config', mesh.file, '--node', id, ...(options.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const daemon = new DaemonProcess(id, child)
  t?.teardown(async () => {
    if (daemon.running) {
      try { process.kill(daemon.pid, 'SIGKILL') } catch {}
      await daemon.exited
    }
  })
  if (options.waitReady ?? true) await daemon.ready(options.readyTimeoutMs)
  return daemon
}

/** A running `marksync demo`: its output so far, and the pids of the nodes it printed. */
export interface DemoProcess {
  child: ChildProcess
  out: () => string
  err: () => string
  /** Node id to pid, from the demo's "node ID: API URL  (pid N," lines. */
  pids: () => Record<string, number>
  exited: Promise<number | null>
}

/** Spawns `marksync demo ...args --dir DIR`; the demo and every node it printed are killed (SIGKILL, by pid) at teardown. */
export function startDemo (t: Teardown, dir: string, args: string[] = []): DemoProcess {
  const child = spawn(process.execPath, [BIN, 'demo', ...args, '--dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const pids = (): Record<string, number> => Object.fromEntries([...stdout.matchAll(/node (\w+): API \S+ {2}\(pid (\d+),/g)].map(m => [m[1], Number(m[2])]))
  t.teardown(async () => {
    for (const pid of [child.pid as number, ...Object.values(pids())]) try { process.kill(pid, 'SIGKILL') } catch {}
  })
  return { child, out: () => stdout, err: () => stderr, pids, exited }
}

export interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs `node bin/marksync.js ...args` to completion (killed after `timeoutMs`). */
export async function runCli (args: string[], options: { env?: Record<string, string>, timeoutMs?: number } = {}): Promise<CliResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 30_000)
    child.once('error', err => { clearTimeout(timer); reject(err) })
    child.once('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

export interface ApiResponse<T = any> { status: number, body: T, text: string }

/** One HTTP API call; `body` is JSON-encoded unless it is already a string or Buffer. */
export async function apiCall<T = any> (base: string, method: string, path: string, options: { body?: unknown, token?: string, timeoutMs?: number } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let body: string | Buffer | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body)
    headers['content-type'] = 'application/json'
  }
  const response = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) })
  const text = await response.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: response.status, body: parsed as T, text }
}
