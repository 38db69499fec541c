/**
 * Ports on 127.0.0.1 for servers that must be told their port before they start: a mesh file's
 * nodes, a lab Dovecot's IMAP and doveadm listeners. Such a port can be lost between the pick
 * and the bind in two ways, and both were seen in the test suite:
 * - a port from `listen(0)` is an ephemeral one, which the kernel gives out again to the next
 *   port-0 listener or outgoing connection on the machine (16-22 repeats in 500 listens here);
 * - two processes picking at the same time (tap runs test files in parallel) pick the same port.
 * So a port is drawn at random below the ephemeral range, where only an explicit bind takes it,
 * claimed with a file created exclusively in a directory that every process shares, and checked
 * by binding it. A claim is dropped when its process exits; one whose process is gone (killed
 * with -9) is taken over.
 */
import { chmodSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Lowest port drawn: above the well-known and most registered services' ports. */
export const LOOPBACK_PORT_MIN = 20_000
/** Used when the ephemeral range cannot be read (it starts at 32768 on Linux, 49152 elsewhere). */
const DEFAULT_EPHEMERAL_LOW = 32_768
/** Draws before giving up on one port. */
const PORT_TRIES = 200

/** Where claims are made; one file per port, holding the claiming pid. */
export const PORT_CLAIMS_DIR = join(tmpdir(), 'marksync-port-claims')

/** The first port of the kernel's ephemeral range: ports drawn stay below it. */
export function ephemeralLow (): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (low !== undefined && Number.isInteger(low) && low > LOOPBACK_PORT_MIN + 1000) return low
  } catch {}
  return DEFAULT_EPHEMERAL_LOW
}

/** Ports this process handed out (never twice: a mesh restarts a node on its own port). */
const handedOut = new Set<number>()
/** Claim files this process made, removed when it exits. */
const claims = new Set<string>()
let cleanupInstalled = false

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: alive, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function makeClaimsDir (): void {
  try {
    mkdirSync(PORT_CLAIMS_DIR, { recursive: true })
    // Shared by whoever runs tests here, root or not; sticky like /tmp.
    chmodSync(PORT_CLAIMS_DIR, 0o1777)
  } catch {}
}

/** Creates the port's claim file; false when a live process holds it. */
function claim (port: number): boolean {
  const file = join(PORT_CLAIMS_DIR, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o644 })
      claims.add(file)
      if (!cleanupInstalled) {
        cleanupInstalled = true
        process.once('exit', releaseAll)
      }
      return true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && attempt === 0) {
        makeClaimsDir()
        continue
      }
      if (code !== 'EEXIST') return true // claims cannot be made here: the bind check alone decides
      const holder = Number(readFileSync(file, 'utf8').trim())
      if (Number.isInteger(holder) && holder > 0 && pidAlive(holder)) return false
      try { unlinkSync(file) } catch {}
    }
  }
  return false
}

function release (port: number): void {
  const file = join(PORT_CLAIMS_DIR, String(port))
  if (!claims.delete(file)) return
  try { unlinkSync(file) } catch {}
}

function releaseAll (): void {
  for (const file of claims) {
    try { unlinkSync(file) } catch {}
  }
  claims.clear()
}

async function bindable (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A port in [LOOPBACK_PORT_MIN, ephemeralLow()) that was free a moment ago, that no other live
 * process has claimed, and that this process never handed out before. `random` draws (tests).
 */
export async function freeLoopbackPort (random: () => number = Math.random): Promise<number> {
  const high = ephemeralLow()
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = LOOPBACK_PORT_MIN + Math.floor(random() * (high - LOOPBACK_PORT_MIN))
    if (handedOut.has(port) || !claim(port)) continue
    if (await bindable(port)) {
      handedOut.add(port)
      return port
    }
    release(port)
  }
  throw new Error(`no free port in ${LOOPBACK_PORT_MIN}..${high - 1} after ${PORT_TRIES} tries`)
}
