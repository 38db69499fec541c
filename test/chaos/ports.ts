import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * Ports for the daemons of a chaos run, chosen below the kernel's ephemeral range.
 * A port from `listen(0)` is an ephemeral one: while a node is down (for seconds, or past
 * retention) its released port could be handed to any outgoing connection or port-0
 * listener on the machine (the harness's own proxies and clients make thousands), and the
 * restart would then fail with EADDRINUSE. Below the ephemeral range only an explicit bind
 * can take it.
 */
export const CHAOS_PORT_MIN = 20_000
/** Used when the ephemeral range cannot be read (it starts at 32768 on Linux, 49152 elsewhere). */
const DEFAULT_EPHEMERAL_LOW = 32_768
/** Attempts to find one free port before giving up. */
const MAX_PORT_TRIES = 200

export function ephemeralLow (): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (low !== undefined && Number.isInteger(low) && low > CHAOS_PORT_MIN + 1000) return low
  } catch {}
  return DEFAULT_EPHEMERAL_LOW
}

async function bindable (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** `count` distinct ports in [CHAOS_PORT_MIN, ephemeral range), each free when checked. */
export async function reservePorts (count: number, random: () => number = Math.random): Promise<number[]> {
  const high = ephemeralLow()
  const out = new Set<number>()
  for (let tries = 0; out.size < count; tries++) {
    if (tries >= MAX_PORT_TRIES * count) throw new Error(`no ${count} free ports in ${CHAOS_PORT_MIN}..${high - 1}`)
    const port = CHAOS_PORT_MIN + Math.floor(random() * (high - CHAOS_PORT_MIN))
    if (!out.has(port) && await bindable(port)) out.add(port)
  }
  return [...out]
}
