import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ephemeralLow, freeLoopbackPort, LOOPBACK_PORT_MIN, PORT_CLAIMS_DIR } from '../../src/bridge/loopback-port.js'

const moduleUrl = new URL('../../src/bridge/loopback-port.ts', import.meta.url).href

/** A generator that draws `port` first, then at random. */
function first (port: number): () => number {
  let drawn = false
  return () => {
    if (drawn) return Math.random()
    drawn = true
    return (port - LOOPBACK_PORT_MIN + 0.5) / (ephemeralLow() - LOOPBACK_PORT_MIN)
  }
}

/**
 * A port after `from` (wrapping round) that nobody has claimed. Not one this process handed
 * out, which keeps its claim until it exits: freeLoopbackPort skips those, and the first test
 * hands out 500.
 */
function unclaimedAfter (from: number): number {
  const span = ephemeralLow() - LOOPBACK_PORT_MIN
  for (let i = 1; i < span; i++) {
    const port = LOOPBACK_PORT_MIN + (from - LOOPBACK_PORT_MIN + i) % span
    if (!existsSync(join(PORT_CLAIMS_DIR, String(port)))) return port
  }
  throw new Error('every port is claimed')
}

// A mesh file with two nodes on one port does not start: the kernel hands out a port it just
// closed again (16-22 repeats in 500 listens on port 0 here).
t.test('freeLoopbackPort never hands out a port twice in one process, and none from the ephemeral range', async t => {
  const ports = new Set<number>()
  for (let i = 0; i < 500; i++) ports.add(await freeLoopbackPort())
  t.equal(ports.size, 500, '500 different ports')
  t.ok([...ports].every(p => p >= LOOPBACK_PORT_MIN && p < ephemeralLow()), 'all below the ephemeral range')
  t.ok([...ports].every(p => readFileSync(join(PORT_CLAIMS_DIR, String(p)), 'utf8') === String(process.pid)), 'each claimed by this process')
})

t.test('a port another live process claimed is not handed out; a dead process\'s claim is taken over', async t => {
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.teardown(() => { holder.kill('SIGKILL') })
  const taken = await freeLoopbackPort()
  const claimedByOther = unclaimedAfter(taken)
  // Claimed, not yet bound: the window in which two test processes used to pick the same port.
  const claimFile = join(PORT_CLAIMS_DIR, String(claimedByOther))
  writeFileSync(claimFile, String(holder.pid))
  t.teardown(() => { rmSync(claimFile, { force: true }) })
  t.not(await freeLoopbackPort(first(claimedByOther)), claimedByOther, 'the live claim is respected')
  t.equal(readFileSync(claimFile, 'utf8'), String(holder.pid), 'and left to its holder')

  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  const stale = unclaimedAfter(claimedByOther)
  writeFileSync(join(PORT_CLAIMS_DIR, String(stale)), gone.stdout)
  t.equal(await freeLoopbackPort(first(stale)), stale, 'the claim of a process that exited is taken over')
  t.equal(readFileSync(join(PORT_CLAIMS_DIR, String(stale)), 'utf8'), String(process.pid))
})

t.test('a process\'s claims are removed when it exits', async t => {
  const script = `import { freeLoopbackPort } from ${JSON.stringify(moduleUrl)}; process.stdout.write(String(await freeLoopbackPort()))`
  const child = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' })
  t.equal(child.status, 0, child.stderr)
  const port = Number(child.stdout)
  t.ok(port >= LOOPBACK_PORT_MIN && port < ephemeralLow(), `the child got port ${port}`)
  t.notOk(existsSync(join(PORT_CLAIMS_DIR, String(port))), 'its claim file is gone')
})
