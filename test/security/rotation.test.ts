/**
 * Rotating the cluster secret without downtime (docs/security.md): a node proves with
 * its `secret` and accepts proofs made with any of `acceptSecrets`. Every pair of nodes
 * one rotation step apart must authenticate in both roles; nodes two steps apart may not;
 * a stranger's secret never. Real sessions over real sockets on 127.0.0.1, then a
 * rolling rotation of a three-node mesh of replicators, one restart at a time.
 */
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import type { Replicator } from '../../src/replication/index.js'
import { Session, type SessionInit } from '../../src/replication/session.js'
import type { Store } from '../../src/store/index.js'
import { openNode } from '../helpers/node.js'
import { freePort, tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

const OLD = Buffer.from('old-cluster-secret-0123456789')
const NEW = Buffer.from('new-cluster-secret-9876543210')
const STRANGER = Buffer.from('not-our-secret-abcdefghijklm')

/** The four steps of a rotation: [secret, acceptSecrets]. */
const STEPS: Record<string, [Buffer, Buffer[]]> = {
  '0 before': [OLD, []],
  '1 accept new': [OLD, [NEW]],
  '2 prove new': [NEW, [OLD]],
  '3 after': [NEW, []]
}

function init (role: 'dialer' | 'acceptor', nodeId: string, peer: string, [secret, acceptSecrets]: [Buffer, Buffer[]]): SessionInit {
  return { role, nodeId, cluster: 'rot', secret, acceptSecrets, peers: new Set([peer]), wallTime: Date.now, handshakeTimeoutMs: 3_000, heartbeatMs: 60_000, remoteAddress: '127.0.0.1' }
}

/** One handshake, dialer `d` to acceptor `a`: 'ok' or the close code the dialer or acceptor saw. */
async function handshake (d: [Buffer, Buffer[]], a: [Buffer, Buffer[]]): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(resolve => wss.once('listening', resolve))
  const results: string[] = []
  const sessions: Session[] = []
  const done = new Promise<void>(resolve => {
    const handlers = {
      onEstablished: (s: Session) => { results.push(`${s.role}:ok`); if (results.length === 2) resolve() },
      onFrame: () => {},
      onSample: () => {},
      onClosed: (s: Session) => { results.push(`${s.role}:${s.closeCode ?? ''}`); resolve() }
    }
    wss.on('connection', ws => { sessions.push(new Session(ws, init('acceptor', 'b', 'a', a), handlers)) })
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`)
    sessions.push(new Session(ws, init('dialer', 'a', 'b', d), handlers))
  })
  await done
  for (const s of sessions) s.terminate('SHUTTING_DOWN', 'test over')
  await new Promise(resolve => wss.close(resolve))
  return results.length === 2 && results.every(r => r.endsWith(':ok')) ? 'ok' : results.find(r => !r.endsWith(':ok')) ?? 'unknown'
}

t.test('nodes one rotation step apart authenticate both ways', async t => {
  const names = Object.keys(STEPS)
  for (let i = 0; i < names.length; i++) {
    for (let j = i; j <= Math.min(i + 1, names.length - 1); j++) {
      const x = STEPS[names[i] as string] as [Buffer, Buffer[]]
      const y = STEPS[names[j] as string] as [Buffer, Buffer[]]
      t.equal(await handshake(x, y), 'ok', `step ${names[i]} dials step ${names[j]}`)
      t.equal(await handshake(y, x), 'ok', `step ${names[j]} dials step ${names[i]}`)
    }
  }
})

t.test('nodes further apart, or with a stranger\'s secret, are refused', async t => {
  t.match(await handshake(STEPS['0 before'] as [Buffer, Buffer[]], STEPS['3 after'] as [Buffer, Buffer[]]), /AUTH_FAILED/, 'before and after the rotation do not meet')
  t.match(await handshake(STEPS['3 after'] as [Buffer, Buffer[]], STEPS['0 before'] as [Buffer, Buffer[]]), /AUTH_FAILED/)
  for (const step of Object.values(STEPS)) {
    t.match(await handshake([STRANGER, []], step), /AUTH_FAILED/, 'a stranger dialing')
    t.match(await handshake(step, [STRANGER, [OLD, NEW]]), /AUTH_FAILED/, 'a stranger accepting, even one that accepts every secret')
  }
})

t.test('a rolling rotation through the replicator: every link stays up at every step', async t => {
  const ids = ['a', 'b', 'c']
  const ports = new Map<string, number>()
  for (const id of ids) ports.set(id, await freePort())
  const dirs = new Map<string, string>()
  for (const id of ids) dirs.set(id, await tempDir(t))
  interface Running { store: Store, repl: Replicator, stop: () => Promise<void> }
  const running = new Map<string, Running>()
  const start = async (id: string, [secret, acceptSecrets]: [Buffer, Buffer[]]): Promise<void> => {
    const node = await openNode({
      id,
      dir: dirs.get(id) as string,
      replication: {
        cluster: 'rot', secret, acceptSecrets, listen: { host: '127.0.0.1', port: ports.get(id) as number },
        peers: ids.filter(p => p !== id).map(p => ({ id: p, url: `ws://127.0.0.1:${ports.get(p) as number}` })),
        heartbeatMs: 200, pushDelayMs: 1
      }
    })
    running.set(id, { store: node.store, repl: node.repl as Replicator, stop: node.stop })
  }
  const stop = async (id: string): Promise<void> => {
    const r = running.get(id)
    running.delete(id)
    await r?.stop()
  }
  t.teardown(async () => { for (const id of [...running.keys()]) await stop(id) })
  let n = 0
  /** Every node marks a change; every node must see every one. */
  const allConnectedAndReplicating = async (what: string): Promise<void> => {
    await waitFor(() => [...running.values()].every(r => r.repl.status().every(p => p.connected)), { timeoutMs: 10_000, what: `${what}: every link up` })
    const marks = await Promise.all([...running.entries()].map(async ([id, r]) => (await r.store.mark([{ user: 'rot', message: `${id}-${++n}`, status: 'read' }]))[0]))
    await waitFor(async () => {
      for (const r of running.values()) {
        for (const m of marks) if ((await r.store.get('rot', m?.message ?? ''))?.ts !== m?.ts) return false
      }
      return true
    }, { timeoutMs: 10_000, what: `${what}: every change everywhere` })
  }
  for (const id of ids) await start(id, STEPS['0 before'] as [Buffer, Buffer[]])
  await allConnectedAndReplicating('step 0')
  for (const step of ['1 accept new', '2 prove new', '3 after']) {
    for (const id of ids) {
      await stop(id)
      await start(id, STEPS[step] as [Buffer, Buffer[]])
      await allConnectedAndReplicating(`${id} on step ${step}`)
    }
  }
  t.pass('every link authenticated and replicated after every single restart')
})
