import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadMeshFile } from '../../config/load.js'
import type { Io } from '../io.js'
import { DemoNode } from './demo-node.js'
import { forgetDemo, recordDemo, waitForEarlierDemo } from './demo-pids.js'
import { dovecotDemoUnavailable, dovecotLogins, shownPath, startDemoDovecots, type DemoDovecots } from './demo-dovecot.js'

/**
 * `marksync demo` (and `npm start`): a three-node mesh on loopback from the bundled
 * examples/demo-mesh.json, data under ./demo-data. Each node is a child process
 * (demo-node.ts) that stops when the demo does, however the demo ends. A node that
 * exits (killed for the README tour) leaves the others running; Ctrl-C, SIGTERM or the
 * terminal closing (SIGHUP) stops them all cleanly. With --dovecot, a Dovecot per node
 * (demo-dovecot.ts) runs too, each node's bridge writes to it, and the stop ends those as well.
 */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const BIN = join(ROOT, 'bin', 'marksync.js')
const BUNDLED_MESH = join(ROOT, 'examples', 'demo-mesh.json')
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

export async function demo (args: { dir: string, dovecot?: boolean }, io: Io, signal?: AbortSignal): Promise<number> {
  // Caught from the start: Ctrl-C while Dovecots and nodes start stops them all once they are up,
  // instead of ending the demo at once and leaving its Dovecots behind.
  const early = catchStopSignals(signal)
  try {
    return await run(args, io, early.signal)
  } finally {
    early.release()
  }
}

async function run (args: { dir: string, dovecot?: boolean }, io: Io, signal: AbortSignal): Promise<number> {
  const dir = resolve(args.dir)
  let meshFile = prepare(dir)
  const { mesh, problems } = loadMeshFile(meshFile)
  if (!problems.ok) {
    io.err(`${meshFile} is invalid:\n  ${problems.lines().join('\n  ')}`)
    return 2
  }
  const unavailable = args.dovecot === true ? dovecotDemoUnavailable(dir) : undefined
  const earlier = unavailable ?? await waitForEarlierDemo(dir)
  if (earlier !== undefined) {
    io.err(`marksync demo${args.dovecot === true ? ' --dovecot' : ''}: ${earlier}`)
    return 1
  }
  let lab: DemoDovecots | undefined
  if (args.dovecot === true) {
    try {
      lab = await startDemoDovecots(dir, meshFile)
    } catch (err) {
      io.err(`marksync demo --dovecot: ${(err as Error).message}`)
      return 1
    }
    meshFile = lab.meshFile
  }
  io.out(`marksync demo: cluster "${mesh.cluster}", ${mesh.nodes.length} nodes, mesh file ${shownPath(meshFile)}`)
  try {
    return await runNodes(mesh.nodes.map(node => new DemoNode(BIN, meshFile, node, dir, io)), { dir, meshFile, lab }, io, signal)
  } finally {
    await lab?.stop()
    if (lab !== undefined) io.out('every Dovecot stopped')
  }
}

/** Waits for the nodes, introduces them, runs until a stop signal, stops them; the exit code. */
async function runNodes (nodes: DemoNode[], at: { dir: string, meshFile: string, lab?: DemoDovecots }, io: Io, signal: AbortSignal): Promise<number> {
  const { dir } = at
  const shown = shownPath(at.meshFile)
  recordDemo(dir, nodes)
  const failed = (await Promise.allSettled(nodes.map(async n => await n.ready()))).find(r => r.status === 'rejected')
  if (failed !== undefined) {
    io.err(`marksync demo: ${(failed.reason as Error).message}`)
    await stopAll(nodes, dir)
    return 1
  }
  introduce(nodes, shown, io, at.lab === undefined ? [] : dovecotLogins(at.lab, dir))
  let stopping = false
  for (const n of nodes) {
    void n.exited.then(() => {
      if (!stopping) io.out(`node ${n.id} exited with ${n.how}; the other nodes keep running. Restart it with:\n  node bin/marksync.js start --config ${shown} --node ${n.id}`)
    })
  }
  const why = await untilStop(signal)
  stopping = true
  io.out(`\nstopping (${why})...`)
  const codes = await stopAll(nodes, dir)
  const clean = codes.every(code => code === null || code === 0)
  io.out(clean ? 'all nodes stopped cleanly' : `nodes exited with ${codes.map(String).join(', ')}`)
  return clean ? 0 : 1
}

/** The demo directory with its mesh file (copied from examples/ once) and a generated secret. */
function prepare (dir: string): string {
  mkdirSync(dir, { recursive: true })
  const meshFile = join(dir, 'mesh.json')
  if (!existsSync(meshFile)) copyFileSync(BUNDLED_MESH, meshFile)
  const secretFile = join(dir, 'cluster.secret')
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 })
  return meshFile
}

function introduce (nodes: DemoNode[], meshShown: string, io: Io, dovecotLines: string[]): void {
  for (const n of nodes) io.out(`  node ${n.id}: API ${n.api}  (pid ${n.pid ?? '?'}, log ${relative(process.cwd(), n.logFile)})`)
  const first = nodes[0] as DemoNode
  const last = nodes[nodes.length - 1] as DemoNode
  io.out([
    '',
    'Try, in another terminal:',
    `  node bin/marksync.js mark alice msg-1 msg-2 --status unread --api ${first.api}`,
    `  node bin/marksync.js unread alice --api ${last.api}`,
    `  node bin/marksync.js status --api ${last.api}`,
    `Stop one node with kill PID: the others keep running; restart it with`,
    `  node bin/marksync.js start --config ${meshShown} --node ${last.id}`,
    ...dovecotLines,
    '',
    'Ctrl-C stops all nodes.'
  ].join('\n'))
}

/**
 * An AbortSignal that the first stop signal (or `outer`) aborts, with the signal's name as its
 * reason. After that first one the handlers are gone: a second Ctrl-C ends the demo at once.
 */
function catchStopSignals (outer?: AbortSignal): { signal: AbortSignal, release: () => void } {
  const stop = new AbortController()
  const release = (): void => {
    for (const name of STOP_SIGNALS) process.off(name, onSignal)
    outer?.removeEventListener('abort', onAbort)
  }
  const onSignal = (name: NodeJS.Signals): void => {
    // After SIGHUP the terminal is gone: writing to it must not crash the stop.
    if (name === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
    release()
    stop.abort(name)
  }
  const onAbort = (): void => { release(); stop.abort('aborted') }
  for (const name of STOP_SIGNALS) process.on(name, onSignal)
  outer?.addEventListener('abort', onAbort)
  if (outer?.aborted === true) onAbort()
  return { signal: stop.signal, release }
}

async function untilStop (signal: AbortSignal): Promise<string> {
  if (!signal.aborted) await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }))
  return String(signal.reason)
}

async function stopAll (nodes: DemoNode[], dir: string): Promise<Array<number | null>> {
  const codes = await Promise.all(nodes.map(async n => await n.stop()))
  forgetDemo(dir)
  return codes
}
