import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadMeshFile } from '../../config/load.js'
import type { Io } from '../io.js'

/**
 * `marksync demo` (and `npm start`): a three-node mesh on loopback from the bundled
 * examples/demo-mesh.json, data under ./demo-data. Each node is a child process
 * running `marksync start`; its JSON log goes to demo-data/<id>.log. Ctrl-C stops
 * all three cleanly.
 */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const BIN = join(ROOT, 'bin', 'marksync.js')
const BUNDLED_MESH = join(ROOT, 'examples', 'demo-mesh.json')
/** How long each node may take to log "ready", in ms. */
const DEMO_READY_TIMEOUT_MS = 30_000

interface Child { id: string, process: ChildProcess, api?: string, exit?: number | null }

export async function demo (args: { dir: string }, io: Io, signal?: AbortSignal): Promise<number> {
  const dir = resolve(args.dir)
  mkdirSync(dir, { recursive: true })
  const meshFile = join(dir, 'mesh.json')
  if (!existsSync(meshFile)) copyFileSync(BUNDLED_MESH, meshFile)
  const secretFile = join(dir, 'cluster.secret')
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 })
  const { mesh, problems } = loadMeshFile(meshFile)
  if (!problems.ok) {
    io.err(`${meshFile} is invalid:\n  ${problems.lines().join('\n  ')}`)
    return 2
  }
  const shown = relative(process.cwd(), meshFile) || meshFile
  io.out(`marksync demo: cluster "${mesh.cluster}", ${mesh.nodes.length} nodes, mesh file ${shown}`)
  const children: Child[] = mesh.nodes.map(node => {
    // Own process group: a terminal's Ctrl-C reaches only the demo, which then stops each node once.
    const child = spawn(process.execPath, [BIN, 'start', '--config', meshFile, '--node', node.id], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const logFile = createWriteStream(join(dir, `${node.id}.log`), { flags: 'a' })
    child.stdout?.pipe(logFile)
    child.stderr?.setEncoding('utf8').on('data', (text: string) => io.err(`[${node.id}] ${text.trimEnd()}`))
    return { id: node.id, process: child }
  })
  const killAll = (): void => { for (const c of children) if (c.exit === undefined) try { c.process.kill('SIGKILL') } catch {} }
  process.once('exit', killAll)
  try {
    const readies = children.map(async c => await waitReady(c))
    const results = await Promise.allSettled(readies)
    const failed = results.find(r => r.status === 'rejected')
    if (failed !== undefined) {
      io.err(`marksync demo: a node did not start: ${(failed.reason as Error).message}`)
      await stopAll(children)
      return 1
    }
    for (const c of children) io.out(`  node ${c.id}: API ${c.api ?? '?'}  (pid ${c.process.pid ?? '?'}, log ${relative(process.cwd(), join(dir, `${c.id}.log`))})`)
    const first = children[0] as Child
    const last = children[children.length - 1] as Child
    io.out([
      '',
      'Try, in another terminal:',
      `  node bin/marksync.js mark alice msg-1 msg-2 --status unread --api ${first.api ?? ''}`,
      `  node bin/marksync.js unread alice --api ${last.api ?? ''}`,
      `  node bin/marksync.js status --api ${last.api ?? ''}`,
      '',
      'Ctrl-C stops all nodes.'
    ].join('\n'))
    const why = await untilStop(children, signal)
    io.out(`\nstopping (${why})...`)
    const codes = await stopAll(children)
    const clean = codes.every(code => code === 0)
    io.out(clean ? 'all nodes stopped cleanly' : `nodes exited with ${codes.join(', ')}`)
    return clean && why !== 'a node exited' ? 0 : 1
  } finally {
    process.off('exit', killAll)
  }
}

async function waitReady (child: Child): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => reject(new Error(`node ${child.id}: not ready within ${DEMO_READY_TIMEOUT_MS} ms`)), DEMO_READY_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8')
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        try {
          const record = JSON.parse(line) as { event?: string, api?: string }
          if (record.event === 'ready') {
            child.api = record.api
            done()
            resolve()
          }
        } catch {}
      }
    }
    const onExit = (code: number | null): void => {
      child.exit = code
      done()
      reject(new Error(`node ${child.id} exited with ${String(code)}`))
    }
    const done = (): void => {
      clearTimeout(timer)
      child.process.stdout?.off('data', onData)
      child.process.off('exit', onExit)
    }
    child.process.stdout?.on('data', onData)
    child.process.once('exit', onExit)
  })
}

async function untilStop (children: Child[], signal?: AbortSignal): Promise<string> {
  return await new Promise(resolve => {
    const finish = (why: string): void => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      signal?.removeEventListener('abort', onAbort)
      for (const c of children) c.process.off('exit', onChildExit)
      resolve(why)
    }
    const onInt = (): void => finish('SIGINT')
    const onTerm = (): void => finish('SIGTERM')
    const onAbort = (): void => finish('aborted')
    const onChildExit = (): void => finish('a node exited')
    process.once('SIGINT', onInt)
    process.once('SIGTERM', onTerm)
    signal?.addEventListener('abort', onAbort)
    for (const c of children) c.process.once('exit', onChildExit)
  })
}

async function stopAll (children: Child[]): Promise<Array<number | null>> {
  return await Promise.all(children.map(async c => {
    if (c.process.exitCode !== null || c.process.signalCode !== null) return c.process.exitCode
    const exited = new Promise<number | null>(resolve => c.process.once('exit', code => resolve(code)))
    c.process.kill('SIGTERM')
    return await exited
  }))
}
