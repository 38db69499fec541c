import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { ImapFlow } from 'imapflow'
import { startDemo, writeMesh } from '../helpers/daemon.js'
import { DOVECOT_SKIP, descendants, isRunning } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot demo test: ${DOVECOT_SKIP}`)

interface Login { node: string, port: number, password: string, dovecotPid: number }

/** The demo's "node a: IMAP host 127.0.0.1 port N  users ...  password P  (dovecot pid Q, ...)" lines. */
function logins (stdout: string): Login[] {
  return [...stdout.matchAll(/node (\w+): IMAP host 127\.0\.0\.1 port (\d+) +users alice, bob, carol +password (\S+) +\(dovecot pid (\d+),/g)]
    .map(m => ({ node: m[1] as string, port: Number(m[2]), password: m[3] as string, dovecotPid: Number(m[4]) }))
}

async function login (l: Login): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: l.port, secure: false, auth: { user: 'alice', pass: l.password }, logger: false, disableAutoIdle: true })
  await client.connect()
  return client
}

async function seen (client: ImapFlow, messageId: string): Promise<boolean> {
  const lock = await client.getMailboxLock('INBOX')
  try {
    await client.noop()
    const uids = await client.search({ header: { 'message-id': messageId } }, { uid: true })
    if (!Array.isArray(uids) || uids.length === 0) return false
    const messages = await client.fetchAll(uids.join(','), { uid: true, flags: true }, { uid: true })
    return messages.every(m => m.flags?.has('\\Seen') === true)
  } finally {
    lock.release()
  }
}

t.test('demo --dovecot: a \\Seen set through node a\'s Dovecot shows on node c\'s; Ctrl-C leaves nothing running', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  await writeMesh(dir, { nodes: ['a', 'b', 'c'] }) // free ports for the nodes
  const demo = startDemo(tt, dir, ['--dovecot'])
  // The demo and its nodes are killed by startDemo's teardown; Dovecot's processes by this one.
  const started = new Set<number>()
  const note = (): void => {
    for (const m of demo.out().matchAll(/\((?:dovecot )?pid (\d+),/g)) started.add(Number(m[1]))
    for (const l of logins(demo.out())) for (const pid of descendants(l.dovecotPid)) started.add(pid)
  }
  tt.teardown(async () => {
    for (const pid of started) try { process.kill(pid, 'SIGKILL') } catch {}
  })
  await waitFor(() => demo.out().includes('Ctrl-C stops all nodes.'), { timeoutMs: 90_000, what: `the demo to be up\n${demo.out()}\n${demo.err()}` })
  const found = logins(demo.out())
  tt.same(found.map(l => l.node), ['a', 'b', 'c'], 'a login per node')
  const a = await login(found[0] as Login)
  const c = await login(found[2] as Login)
  tt.teardown(() => { a.close(); c.close() })
  tt.notOk(await seen(c, '<demo-2@marksync.example>'), 'the sample message starts unread on c')

  const lock = await a.getMailboxLock('INBOX')
  try {
    const uids = await a.search({ header: { 'message-id': '<demo-2@marksync.example>' } }, { uid: true })
    tt.ok(Array.isArray(uids) && uids.length === 1, 'node a has the sample message')
    await a.messageFlagsAdd((uids as number[]).join(','), ['\\Seen'], { uid: true })
  } finally {
    lock.release()
  }
  await waitFor(async () => await seen(c, '<demo-2@marksync.example>'), { timeoutMs: 30_000, intervalMs: 50, what: 'the \\Seen to reach node c\'s Dovecot' })
  tt.pass('\\Seen set on a is on c')
  await a.logout()
  await c.logout()

  note() // every pid the demo started, Dovecot's children included, before it stops them
  tt.ok(started.size >= 6, `nodes, Dovecot masters and their children noted (${started.size})`)
  demo.child.kill('SIGINT')
  tt.equal(await demo.exited, 0, demo.err())
  tt.match(demo.out(), /all nodes stopped cleanly/)
  tt.match(demo.out(), /every Dovecot stopped/)
  for (const pid of started) tt.notOk(isRunning(pid), `pid ${pid} is gone`)
})

/** Processes whose command line names `dir` (the demo's nodes, its Dovecot masters), with their children. */
function processesOf (dir: string): number[] {
  const named = readdirSync('/proc').filter(name => /^\d+$/.test(name)).map(Number).filter(pid => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) } catch { return false }
  })
  return [...new Set(named.flatMap(pid => [pid, ...descendants(pid)]))].filter(isRunning)
}

t.test('demo --dovecot: SIGTERM while the Dovecots start still stops every Dovecot and node', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const demo = startDemo(tt, dir, ['--dovecot'])
  const started = new Set<number>()
  tt.teardown(() => { for (const pid of started) try { process.kill(pid, 'SIGKILL') } catch {} })
  const own = (): number[] => processesOf(dir).filter(pid => pid !== demo.child.pid)
  await waitFor(() => { for (const pid of own()) started.add(pid); return started.size > 0 }, { timeoutMs: 60_000, intervalMs: 5, what: `a first Dovecot of the demo\n${demo.out()}\n${demo.err()}` })
  tt.notMatch(demo.out(), /Ctrl-C stops all nodes/, 'the signal comes before the demo is up')
  demo.child.kill('SIGTERM')
  // Everything it starts from now on is noted, until it exits.
  let code: number | null | undefined
  void demo.exited.then(c => { code = c })
  await waitFor(() => { for (const pid of own()) started.add(pid); return code !== undefined }, { timeoutMs: 90_000, intervalMs: 20, what: `the demo to stop\n${demo.out()}\n${demo.err()}` })
  tt.equal(code, 0, demo.err())
  tt.match(demo.out(), /stopping \(SIGTERM\)/)
  tt.match(demo.out(), /every Dovecot stopped/)
  tt.ok(started.size >= 3, `Dovecot and node processes seen (${started.size})`)
  for (const pid of started) tt.notOk(isRunning(pid), `pid ${pid} is gone`)
  tt.same(own(), [], 'no process names the demo directory')
})

t.test('demo --dovecot after a demo killed with -9: the Dovecots it left are stopped and the next demo starts', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const first = startDemo(tt, dir, ['--dovecot'])
  const left = new Set<number>()
  tt.teardown(() => { for (const pid of left) try { process.kill(pid, 'SIGKILL') } catch {} })
  await waitFor(() => first.out().includes('Ctrl-C stops all nodes.'), { timeoutMs: 90_000, what: `the first demo to be up\n${first.out()}\n${first.err()}` })
  const masters = logins(first.out()).map(l => l.dovecotPid)
  tt.equal(masters.length, 3, 'a Dovecot per node')
  for (const pid of masters) left.add(pid)
  first.child.kill('SIGKILL')
  await first.exited
  tt.ok(masters.every(isRunning), 'the Dovecots outlive a demo killed with -9')

  const second = startDemo(tt, dir, ['--dovecot'])
  await waitFor(() => second.out().includes('Ctrl-C stops all nodes.'), { timeoutMs: 90_000, what: `the second demo to be up\n${second.out()}\n${second.err()}` })
  for (const pid of masters) tt.notOk(isRunning(pid), `the first demo's Dovecot ${pid} was stopped`)
  const again = logins(second.out())
  for (const l of again) left.add(l.dovecotPid)
  const client = await login(again[0] as Login)
  tt.ok(client.authenticated !== false, 'the printed login works on the new Dovecot')
  await client.logout()
  second.child.kill('SIGINT')
  tt.equal(await second.exited, 0, second.err())
  for (const l of again) tt.notOk(isRunning(l.dovecotPid), `dovecot ${l.dovecotPid} stopped with the demo`)
})

t.test('demo --dovecot without Dovecot says how to install it', { skip: DOVECOT_SKIP === false ? 'Dovecot is installed here' : false }, async tt => {
  const dir = await tempDir(tt)
  await writeMesh(dir, { nodes: ['a', 'b', 'c'] })
  const demo = startDemo(tt, dir, ['--dovecot'])
  tt.equal(await demo.exited, 1)
  tt.match(demo.err(), /apt-get install dovecot-imapd/)
})
