import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * DIR/demo.pids: the pids of a running demo and its nodes, so a next `marksync demo` on
 * the same directory waits for the nodes of one that was killed (they stop when their
 * stdin closes, see demo-node.ts) instead of failing on their ports and locks, and says
 * so when a demo is still running there.
 */
/** How long to wait for an earlier demo's nodes to finish stopping, in ms. */
export const DEMO_EARLIER_WAIT_MS = 15_000
const POLL_MS = 100

interface Recorded { demo: number, nodes: Record<string, number> }

export function recordDemo (dir: string, nodes: Array<{ id: string, pid: number | undefined }>): void {
  const record: Recorded = { demo: process.pid, nodes: Object.fromEntries(nodes.map(n => [n.id, n.pid ?? 0])) }
  writeFileSync(join(dir, 'demo.pids'), JSON.stringify(record) + '\n')
}

export function forgetDemo (dir: string): void {
  rmSync(join(dir, 'demo.pids'), { force: true })
}

/** Undefined once nothing of an earlier demo runs on `dir`; else what is in the way. */
export async function waitForEarlierDemo (dir: string): Promise<string | undefined> {
  let recorded: Recorded
  try {
    recorded = JSON.parse(readFileSync(join(dir, 'demo.pids'), 'utf8')) as Recorded
  } catch {
    return undefined
  }
  if (recorded.demo !== process.pid && isMarksync(recorded.demo)) {
    return `a demo is already running on ${dir} (pid ${recorded.demo}): stop it (Ctrl-C in its terminal, or kill ${recorded.demo}) first`
  }
  const deadline = Date.now() + DEMO_EARLIER_WAIT_MS
  for (;;) {
    const left = Object.entries(recorded.nodes).filter(([, pid]) => isMarksync(pid))
    if (left.length === 0) return undefined
    if (Date.now() > deadline) {
      return `node ${left.map(([id, pid]) => `${id} (pid ${pid})`).join(', ')} of an earlier demo still running on ${dir}: kill ${left.map(([, pid]) => pid).join(' ')}`
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
}

/** Alive and, where /proc tells, a marksync process (a recycled pid is not one of ours). */
function isMarksync (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('marksync')
  } catch {
    return true
  }
}
