import { ephemeralLow, freeLoopbackPort, LOOPBACK_PORT_MIN } from '../../src/bridge/loopback-port.js'

/**
 * Ports for the daemons of a chaos run, below the kernel's ephemeral range and claimed for this
 * process (src/bridge/loopback-port.ts): while a node is down (for seconds, or past retention)
 * its released port is not handed to an outgoing connection or port-0 listener on the machine
 * (the harness's own proxies and clients make thousands), so its restart can bind it again.
 */
export const CHAOS_PORT_MIN = LOOPBACK_PORT_MIN
export { ephemeralLow }

/** `count` distinct ports in [CHAOS_PORT_MIN, ephemeral range), each free when checked. */
export async function reservePorts (count: number, random: () => number = Math.random): Promise<number[]> {
  const out: number[] = []
  try {
    while (out.length < count) out.push(await freeLoopbackPort(random))
  } catch (err) {
    throw new Error(`no ${count} free ports: ${(err as Error).message}`)
  }
  return out
}
