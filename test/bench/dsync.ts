/**
 * The dsync anchor: how fast Dovecot's own replication (`doveadm sync`) moves `\Seen` changes
 * between two Dovecot instances on this machine, to compare marksync's figures with in the same
 * run. Method (docs/benchmarks.md "dsync anchor"): fill instance A with N users × M messages, make
 * B a replica of A with the same mailbox and message GUIDs (a file copy of A's mail, or
 * `doveadm backup` over B's doveadm TCP listener), take a dsync state per user, set `\Seen` on
 * every message of A with one `doveadm flags add`, then time `doveadm sync -s STATE` A → B for
 * each user, one after the other or all at once, and count the seen messages on B.
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startDovecot } from '../helpers/dovecot.js'
import { copyTree, doveadmOk, expectSeen, fill, type MailFormat } from '../helpers/mail-fill.js'

export type { MailFormat }

/** doveadm imports and backups run this many users at a time while setting up (2 cores here). */
const SETUP_CONCURRENCY = 2
/**
 * How B becomes A's replica: 'files' copies A's mail directories (seconds; the GUIDs are in the
 * files, so dsync sees the same mailboxes and messages), 'backup' runs `doveadm backup` per user
 * (minutes for 10 × 10,000 messages; measures dsync's initial full copy too).
 */
export type ReplicaCopy = 'files' | 'backup'

export interface DsyncOptions {
  users: number
  messagesPerUser: number
  format: MailFormat
  parallel: boolean
  /** A fresh directory of the caller's own; removing it afterwards is the caller's job. */
  dir: string
  /** Default 'files'. */
  copy?: ReplicaCopy
}

export interface DsyncResult {
  changes: number
  seconds: number
  perSecond: number
  /** The `doveadm flags add` (or remove) on A that made the changes, before the timed sync. */
  commandSeconds: number
}

export interface DsyncPair {
  users: string[]
  messagesPerUser: number
  format: MailFormat
  copy: ReplicaCopy
  /** Seconds to fill A, to make B its replica, and to take the first states. */
  setupSeconds: { fill: number, replica: number, firstSync: number }
  /** Flips `\Seen` on every message of A (set, then clear on the next call) and times the sync to B. */
  measure (parallel: boolean): Promise<DsyncResult>
  /** Flips `\Seen` on one message of the first user and times that user's sync. */
  measureOneChange (): Promise<number>
  stop (): Promise<void>
}

export function benchUsers (count: number): string[] {
  return Array.from({ length: count }, (_, i) => `u${String(i + 1).padStart(2, '0')}`)
}

/** One measurement on a pair of its own (the speed benchmark calls this). */
export async function measureDsync (options: DsyncOptions): Promise<DsyncResult> {
  const pair = await prepareDsyncPair(options.dir, options.users, options.messagesPerUser, options.format, options.copy)
  try {
    return await pair.measure(options.parallel)
  } finally {
    await pair.stop()
  }
}

export async function prepareDsyncPair (dir: string, userCount: number, messagesPerUser: number, format: MailFormat, copy: ReplicaCopy = 'files'): Promise<DsyncPair> {
  const users = benchUsers(userCount)
  const passwords = Object.fromEntries(users.map(u => [u, 'bench']))
  const a = await startDovecot(undefined, { dir: join(dir, 'a'), users: passwords, mailFormat: format })
  const b = await startDovecot(undefined, { dir: join(dir, 'b'), users: passwords, mailFormat: format }).catch(async err => { await a.stop(); throw err })
  const stop = async (): Promise<void> => { await Promise.all([a.stop(), b.stop()]) }
  try {
    const remote = `tcp:127.0.0.1:${b.doveadmPort}`
    let started = performance.now()
    await fill(a, users, messagesPerUser, format)
    const fillSeconds = (performance.now() - started) / 1000
    started = performance.now()
    if (copy === 'backup') await eachUser(users, SETUP_CONCURRENCY, async user => { await doveadmOk(a, ['backup', '-u', user, remote]) })
    else for (const user of users) await copyTree(join(a.dir, 'mail', user), join(b.dir, 'mail', user))
    const replicaSeconds = (performance.now() - started) / 1000
    // A state taken right after `backup` can fail with "Remote lost mailbox GUID" (notes §5):
    // one stateless sync first (it also proves the copy is in step), then the state to start from.
    started = performance.now()
    const states = new Map<string, string>()
    await eachUser(users, SETUP_CONCURRENCY, async user => {
      await doveadmOk(a, ['sync', '-u', user, remote])
      states.set(user, (await doveadmOk(a, ['sync', '-u', user, '-s', '', remote])).trim())
    })
    const firstSyncSeconds = (performance.now() - started) / 1000
    await expectSeen(b, users, 0, 'B before the first measurement')
    let seen = false
    const syncUser = async (user: string): Promise<void> => {
      states.set(user, (await doveadmOk(a, ['sync', '-u', user, '-s', states.get(user) ?? '', remote])).trim())
    }
    const pair: DsyncPair = {
      users,
      messagesPerUser,
      format,
      copy,
      setupSeconds: { fill: fillSeconds, replica: replicaSeconds, firstSync: firstSyncSeconds },
      measure: async parallel => {
        seen = !seen
        const commandStart = performance.now()
        await doveadmOk(a, ['flags', seen ? 'add' : 'remove', '-A', '\\Seen', 'mailbox', 'INBOX', 'ALL'])
        const changes = users.length * messagesPerUser
        const start = performance.now()
        if (parallel) await Promise.all(users.map(syncUser))
        else for (const user of users) await syncUser(user)
        const seconds = (performance.now() - start) / 1000
        await expectSeen(b, users, seen ? changes : 0, `B after syncing ${seen ? '+' : '-'}\\Seen`)
        return { changes, seconds, perSecond: changes / seconds, commandSeconds: (start - commandStart) / 1000 }
      },
      measureOneChange: async () => {
        const user = users[0]
        await doveadmOk(a, ['flags', seen ? 'remove' : 'add', '-u', user, '\\Seen', 'mailbox', 'INBOX', 'UID', '1'])
        const start = performance.now()
        await syncUser(user)
        const seconds = (performance.now() - start) / 1000
        await doveadmOk(a, ['flags', seen ? 'add' : 'remove', '-u', user, '\\Seen', 'mailbox', 'INBOX', 'UID', '1'])
        await syncUser(user)
        return seconds
      },
      stop
    }
    // One unmeasured round: after a file copy, B's first sync with changes took 3× as long as
    // every later one (one-time work on the replica's indexes), which is not what we measure.
    await pair.measure(true)
    await pair.measure(true)
    return pair
  } catch (err) {
    await stop()
    throw err
  }
}

async function eachUser (users: string[], concurrency: number, fn: (user: string) => Promise<void>): Promise<void> {
  const queue = [...users]
  const worker = async (): Promise<void> => {
    for (let user = queue.shift(); user !== undefined; user = queue.shift()) await fn(user)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, worker))
}
