/**
 * `npm run bench:bridge`: the Dovecot bridge against dsync, on this machine, in one run.
 * 1. Latency: a user's client on A sets `\Seen` on one message every 10 ms (100 changes/s, never
 *    faster: a late answer delays the next STOREs rather than bunching them); the
 *    end of each sample is the moment B's Dovecot commits the bridge's STORE (its Lua event for
 *    the master user's write, seen in B's spool), i.e. when the flag is visible to B's clients.
 *    All flags are then checked through IMAP on B. Each sample is also cut into three legs by the
 *    time each node entered the change (its log's `localTime`; one machine, one clock): the
 *    client's STORE to A's node, A's node to B's node, B's node to B's Dovecot.
 * 2. Bulk: `doveadm flags add -A \Seen` on A (every user × message), timed from the command's start
 *    until B shows every message seen (`doveadm mailbox status`, polled every 20 ms), against dsync
 *    (test/bench/dsync.ts: a dsync replica pair with the same mailboxes) users in turn and in parallel.
 *    dsync's rate counts its sync alone (the figure); its end-to-end rate counts the same
 *    `doveadm flags add` too, as the bridge's row does, since the bridge works while it runs.
 *    Before the nodes start, the same command is timed on A alone (and undone): what Dovecot's
 *    push driver costs, against the dsync pair's command without it.
 * Options: --users N (10), --messages M (1,000; the figure is 10,000), --formats sdbox,maildir,
 * --latency N samples (500). Prints tables, writes test/bench/results/bridge.json.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { DOVECOT_SKIP, type DovecotInstance } from '../helpers/dovecot.js'
import { waitFor } from '../helpers/wait.js'
import { SpoolTail } from '../../src/bridge/spool-tail.js'
import { parseSpoolLine } from '../../src/bridge/spool-line.js'
import { bridgeStatus, connectUser, startBridgeMesh, type BridgeMesh } from '../bridge/harness.js'
import { doveadmOk, fill, type MailFormat } from '../helpers/mail-fill.js'
import { benchUsers, measureDsync, type DsyncResult } from './dsync.js'
import { printGoals, printTable, type GoalLine } from './measure.js'

const round = (x: number, digits = 2): number => Number(x.toFixed(digits))
/** dsync's rate counting the `doveadm flags add` that made the changes, as the bridge's bulk row does. */
const endToEndRate = (d: DsyncResult): number => d.changes / (d.commandSeconds + d.seconds)
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN

function options (): { users: number, messages: number, formats: MailFormat[], latency: number } {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '10' }, messages: { type: 'string', default: '1000' }, formats: { type: 'string', default: 'sdbox,maildir' }, latency: { type: 'string', default: '500' } } })
  const int = (text: string | undefined, max: number): number => {
    const n = Number(text)
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`expected an integer 1..${max}, got ${String(text)}`)
    return n
  }
  const messages = int(values.messages, 100_000)
  return { users: int(values.users, 99), messages, formats: (values.formats ?? '').split(',') as MailFormat[], latency: Math.min(int(values.latency, 100_000), messages) }
}

class Teardowns {
  readonly fns: Array<() => unknown> = []
  teardown (fn: () => unknown): void { this.fns.push(fn) }
  async run (): Promise<void> { for (const fn of this.fns.reverse()) { try { await fn() } catch {} } }
}

async function bridgeSyncs (host: BridgeMesh['hosts'][string]): Promise<number> {
  const bridge = await bridgeStatus(host)
  return bridge.state === 'ok' ? bridge.counters.syncs as number : -1
}

/**
 * Steady state before measuring: a bridge meets a user first at their first event and reads
 * their mailboxes in full then (seconds under load), so each user sets a flag outside the
 * mapping (\Flagged) once on each host, and the bench waits for those first reads.
 */
async function warmUp (t: Teardowns, mesh: BridgeMesh, users: string[]): Promise<void> {
  for (const host of [mesh.hosts.a!, mesh.hosts.b!]) {
    const before = Math.max(0, await bridgeSyncs(host))
    for (const user of users) {
      const client = await connectUser(t, host.dovecot, user)
      await client.mailboxOpen('INBOX')
      await client.messageFlagsAdd('1', ['\\Flagged'], { uid: true })
    }
    await waitFor(async () => await bridgeSyncs(host) >= before + users.length, { timeoutMs: 600_000, what: `${host.id}'s first read of every user` })
  }
}

async function seenOn (dovecot: DovecotInstance): Promise<number> {
  const out = (await dovecot.doveadm(['-f', 'tab', 'mailbox', 'status', '-A', 'messages unseen', 'INBOX'])).stdout
  const [header, ...rows] = out.trim().split('\n').map(line => line.split('\t'))
  return rows.reduce((sum, row) => sum + Number(row[header!.indexOf('messages')]) - Number(row[header!.indexOf('unseen')]), 0)
}

/** The `\\Seen` entries of `user` in a node's log, by Message-ID: when that node entered each (epoch ms). */
async function enteredAt (api: string, user: string): Promise<Map<string, number>> {
  const at = new Map<string, number>()
  for (let after: number | null = 0; after !== null;) {
    const page = await (await fetch(`${api}/v1/users/${user}/log?after=${after}&limit=1000`)).json() as { entries: Array<{ message: string, status: string, localTime: number }>, next: number | null }
    for (const e of page.entries) if (e.status === 'read') at.set(e.message, e.localTime)
    after = page.next
  }
  return at
}

/** Each leg of the samples' path in ms, from the two nodes' logs (one clock: one machine). */
interface LatencyLegs { toNodeA: number[], nodeAToNodeB: number[], nodeBToVisible: number[] }

/** Latency samples: STORE on A → B's Dovecot committed the bridge's write. */
async function latency (t: Teardowns, mesh: BridgeMesh, samples: number): Promise<{ total: number[], legs: LatencyLegs }> {
  const { a, b } = mesh.hosts as Record<string, BridgeMesh['hosts'][string]>
  const userA = await connectUser(t, a!.dovecot, 'u01')
  const userB = await connectUser(t, b!.dovecot, 'u01')
  const idOfB = new Map<number, string>()
  await userB.mailboxOpen('INBOX')
  for (const m of await userB.fetchAll('1:*', { uid: true, headers: ['message-id'] }, { uid: true })) idOfB.set(m.uid, m.headers?.toString().split(':')[1]?.trim() ?? '')
  const sentAt = new Map<string, number>()
  const done = new Map<string, number>()
  const tail = new SpoolTail({
    path: b!.spool,
    onLines: async lines => {
      const now = performance.now()
      for (const e of lines.map(parseSpoolLine)) if (e?.kind === 'flags-set' && e.origin === 'marksync' && e.user === 'u01') done.set(idOfB.get(e.uid) ?? '', now)
    },
    onCheckpoint: () => {},
    onRotated: () => {},
    onError: () => {}
  })
  tail.start()
  t.teardown(async () => await tail.stop())
  await userA.mailboxOpen('INBOX')
  const ids = new Map<number, string>()
  for (const m of await userA.fetchAll(`1:${samples}`, { uid: true, headers: ['message-id'] }, { uid: true })) ids.set(m.uid, m.headers?.toString().split(':')[1]?.trim() ?? '')
  let due = performance.now()
  for (const [uid, id] of ids) {
    while (performance.now() < due) await new Promise(resolve => setTimeout(resolve, Math.max(0, due - performance.now())))
    sentAt.set(id, performance.now())
    await userA.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true })
    // 100 changes/s at most: after a STORE that Dovecot answered late, the samples owed are not
    // sent in a burst (that would be a higher rate than the one measured), the schedule moves on.
    due = Math.max(due + 10, performance.now())
  }
  await waitFor(() => [...sentAt.keys()].every(id => done.has(id)), { timeoutMs: 120_000, what: 'every latency sample on B' })
  await userB.mailboxOpen('INBOX')
  const seen = await userB.search({ seen: true }, { uid: true })
  if (!Array.isArray(seen) || seen.length !== samples) throw new Error(`B shows ${Array.isArray(seen) ? seen.length : 0} seen, expected ${samples}`)
  const epoch = (t: number): number => performance.timeOrigin + t
  const onA = await enteredAt(a!.api, 'u01')
  const onB = await enteredAt(b!.api, 'u01')
  const legs: LatencyLegs = { toNodeA: [], nodeAToNodeB: [], nodeBToVisible: [] }
  for (const [id, at] of sentAt) {
    const entA = onA.get(id)
    const entB = onB.get(id)
    if (entA === undefined || entB === undefined) continue
    legs.toNodeA.push(entA - epoch(at))
    legs.nodeAToNodeB.push(entB - entA)
    legs.nodeBToVisible.push(epoch(done.get(id) as number) - entB)
  }
  for (const leg of Object.values(legs) as number[][]) leg.sort((x, y) => x - y)
  return { total: [...sentAt].map(([id, at]) => (done.get(id) as number) - at).sort((x, y) => x - y), legs }
}

/**
 * What the Lua push driver costs Dovecot: the bulk's `doveadm flags add` on A before any node
 * runs (the spool written, nobody reading it), then undone, and the spool removed. The dsync
 * pair's own command (`commandSeconds`) is the same command without the driver.
 */
async function pushDriverCost (dovecot: DovecotInstance, spool: string): Promise<number> {
  const start = performance.now()
  await doveadmOk(dovecot, ['flags', 'add', '-A', '\\Seen', 'mailbox', 'INBOX', 'ALL'])
  const seconds = (performance.now() - start) / 1000
  await doveadmOk(dovecot, ['flags', 'remove', '-A', '\\Seen', 'mailbox', 'INBOX', 'ALL'])
  await unlink(spool)
  return seconds
}

async function bulk (mesh: BridgeMesh, total: number, already: number): Promise<{ changes: number, seconds: number, commandSeconds: number, postedOnA: number }> {
  const { a, b } = mesh.hosts
  const start = performance.now()
  await a!.dovecot.doveadm(['flags', 'add', '-A', '\\Seen', 'mailbox', 'INBOX', 'ALL'])
  const commandSeconds = (performance.now() - start) / 1000
  await waitFor(async () => await seenOn(b!.dovecot) === total, { timeoutMs: 900_000, intervalMs: 20, what: 'every message seen on B' })
  const seconds = (performance.now() - start) / 1000
  // B's Dovecot shows a STORE's flags before the bridge has its answer: the counters read next
  // are complete once B's bridge has no feed entry left to apply.
  await waitFor(async () => (await bridgeStatus(b!)).behind === 0, { timeoutMs: 60_000, intervalMs: 20, what: 'B\'s bridge to have applied its whole feed' })
  return { changes: total - already, seconds, commandSeconds, postedOnA: (await bridgeStatus(a!)).counters.posted as number }
}

async function runFormat (format: MailFormat, o: ReturnType<typeof options>, rows: object[], results: Record<string, unknown>): Promise<void> {
  const t = new Teardowns()
  const dir = await mkdtemp(join(tmpdir(), 'marksync-bench-bridge-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  try {
    const users = Object.fromEntries(benchUsers(o.users).map(u => [u, 'secret']))
    let pushDriverSeconds = NaN
    const mesh = await startBridgeMesh(t, dir, ['a', 'b'], undefined, {
      users,
      mailFormat: format,
      // The default interval, as an admin's bridge has it: the tests' 1 minute made a periodic
      // catch-up fall into the maildir runs and re-read every message the bulk had changed.
      catchUpInterval: '5m',
      prepare: async dovecots => {
        for (const { dovecot, spool } of Object.values(dovecots)) {
          await fill(dovecot, Object.keys(users), o.messages, format)
          await unlink(spool).catch(() => {})
        }
        pushDriverSeconds = await pushDriverCost(dovecots.a!.dovecot, dovecots.a!.spool)
      }
    })
    await warmUp(t, mesh, Object.keys(users))
    const { total: lat, legs } = await latency(t, mesh, o.latency)
    const total = o.users * o.messages
    const bridge = await bulk(mesh, total, o.latency)
    const legMs = (leg: number[]): object => ({ p50: percentile(leg, 0.5), p99: percentile(leg, 0.99), max: leg[leg.length - 1], samples: leg.length })
    const latencyMs = {
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      max: lat[lat.length - 1],
      samples: lat.length,
      legs: { toNodeA: legMs(legs.toNodeA), nodeAToNodeB: legMs(legs.nodeAToNodeB), nodeBToVisible: legMs(legs.nodeBToVisible) }
    }
    // A failure the bridge retried shows only as a counter in its status: keep what the logs said.
    const errors = (host: BridgeMesh['hosts'][string]): unknown[] => host.daemon.logs.filter(line => line.event === 'bridge-error').map(({ user, err }) => ({ user, err }))
    const bridgeErrors = { a: errors(mesh.hosts.a!), b: errors(mesh.hosts.b!) }
    if (bridgeErrors.a.length + bridgeErrors.b.length > 0) console.log(`${format}: bridge failures (retried): ${JSON.stringify(bridgeErrors)}`)
    results[format] = { countersA: (await bridgeStatus(mesh.hosts.a!)).counters, countersB: (await bridgeStatus(mesh.hosts.b!)).counters, latencyMs, bridge, bridgeErrors, pushDriverSeconds }
    rows.push({ format, what: `latency at 100 changes/s (${lat.length} samples)`, p50_ms: round(percentile(lat, 0.5)), p99_ms: round(percentile(lat, 0.99)), changes: '', seconds: '', 'changes/s': '' })
    const legNames: Record<keyof LatencyLegs, string> = { toNodeA: 'client\'s STORE → entered on A\'s node', nodeAToNodeB: 'A\'s node → entered on B\'s node', nodeBToVisible: 'B\'s node → B\'s Dovecot committed the write' }
    for (const [leg, name] of Object.entries(legNames) as Array<[keyof LatencyLegs, string]>) {
      rows.push({ format, what: `  leg: ${name} (${legs[leg].length})`, p50_ms: round(percentile(legs[leg], 0.5)), p99_ms: round(percentile(legs[leg], 0.99)), changes: '', seconds: '', 'changes/s': '' })
    }
    rows.push({ format, what: 'A\'s doveadm flags add -A alone (push driver on, nodes not started)', p50_ms: '', p99_ms: '', changes: total, seconds: round(pushDriverSeconds), 'changes/s': Math.round(total / pushDriverSeconds) })
    rows.push({ format, what: 'bridge bulk (doveadm flags add -A on A)', p50_ms: '', p99_ms: '', changes: bridge.changes, seconds: round(bridge.seconds), 'changes/s': Math.round(bridge.changes / bridge.seconds) })
    rows.push({ format, what: '  of which A\'s doveadm flags add -A', p50_ms: '', p99_ms: '', changes: '', seconds: round(bridge.commandSeconds), 'changes/s': '' })
  } finally {
    await t.run()
  }
  for (const parallel of [false, true]) {
    const dsyncDir = await mkdtemp(join(tmpdir(), 'marksync-bench-dsync-'))
    try {
      const r = await measureDsync({ users: o.users, messagesPerUser: o.messages, format, parallel, dir: dsyncDir })
      ;(results[format] as Record<string, unknown>)[parallel ? 'dsyncParallel' : 'dsyncInTurn'] = r
      const mode = parallel ? 'in parallel' : 'in turn'
      if (!parallel) rows.push({ format, what: 'dsync pair\'s doveadm flags add -A (no push driver)', p50_ms: '', p99_ms: '', changes: r.changes, seconds: round(r.commandSeconds), 'changes/s': Math.round(r.changes / r.commandSeconds) })
      rows.push({ format, what: `dsync, users ${mode}`, p50_ms: '', p99_ms: '', changes: r.changes, seconds: round(r.seconds), 'changes/s': Math.round(r.perSecond) })
      rows.push({ format, what: `dsync end to end (command + sync), users ${mode}`, p50_ms: '', p99_ms: '', changes: r.changes, seconds: round(r.commandSeconds + r.seconds), 'changes/s': Math.round(endToEndRate(r)) })
    } finally {
      await rm(dsyncDir, { recursive: true, force: true })
    }
  }
}

async function main (): Promise<void> {
  const o = options()
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), ...o, cpus: cpus().length, loadAverage: loadavg() }
  if (DOVECOT_SKIP !== false) {
    console.log(`bridge benchmark not run: ${DOVECOT_SKIP}`)
    return
  }
  results.dovecot = execFileSync('dovecot', ['--version']).toString().trim()
  const rows: object[] = []
  for (const format of o.formats) await runFormat(format, o, rows, results)
  printTable(rows)
  const goals: GoalLine[] = []
  for (const format of o.formats) {
    const r = results[format] as any
    goals.push({ goal: `${format}: STORE on A → visible on B, p50`, measured: `${round(r.latencyMs.p50)} ms`, target: '< 10 ms', met: r.latencyMs.p50 < 10 })
    goals.push({ goal: `${format}: p99`, measured: `${round(r.latencyMs.p99)} ms`, target: '< 50 ms', met: r.latencyMs.p99 < 50 })
    const rate = r.bridge.changes / r.bridge.seconds
    const best = Math.max(r.dsyncInTurn.perSecond, r.dsyncParallel.perSecond)
    goals.push({ goal: `${format}: bulk rate vs dsync (best of in turn / parallel)`, measured: `${Math.round(rate)}/s vs ${Math.round(best)}/s`, target: '>= dsync', met: rate >= best })
    const bestEndToEnd = Math.max(endToEndRate(r.dsyncInTurn), endToEndRate(r.dsyncParallel))
    goals.push({ goal: `${format}: end to end, command start → all on B (dsync: command + sync)`, measured: `${Math.round(rate)}/s vs ${Math.round(bestEndToEnd)}/s`, target: '>= dsync', met: rate >= bestEndToEnd })
  }
  printGoals(goals)
  const out = fileURLToPath(new URL('../../../test/bench/results/', import.meta.url))
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'bridge.json'), JSON.stringify({ ...results, goals, loadAverageAtEnd: loadavg() }, null, 2) + '\n')
  console.log(`wrote ${join(out, 'bridge.json')}`)
}

main().catch(err => { console.error(err); process.exitCode = 1 })
