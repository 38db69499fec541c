import t from 'tap'
import { unlink } from 'node:fs/promises'
import { DOVECOT_SKIP, restartDovecot } from '../helpers/dovecot.js'
import { doveadmOk, expectSeen, fill } from '../helpers/mail-fill.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { bridgeStatus, connectUser, startBridgeMesh, type Host } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge counters test: ${DOVECOT_SKIP}`)

const USERS = ['u01', 'u02', 'u03', 'u04']
const MESSAGES = 200

/**
 * `applied` counts every message copy whose flags the bridge changed, also while it applies
 * several users' changes at once: it once added each user's count to a total read before the
 * STOREs (`applied += await …`), and concurrent users overwrote each other's (4,516 of 6,000).
 */
t.test('applied counts every copy changed, with users applied at once', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const mesh = await startBridgeMesh(tt, dir, ['a', 'b'], undefined, {
    users: Object.fromEntries(USERS.map(u => [u, 'secret'])),
    mailFormat: 'sdbox',
    prepare: async dovecots => {
      for (const { dovecot, spool } of Object.values(dovecots)) {
        await fill(dovecot, USERS, MESSAGES, 'sdbox')
        await unlink(spool).catch(() => {})
      }
    }
  })
  const { a } = mesh.hosts as Record<string, Host>
  const b = mesh.hosts.b as Host
  // B reads each user at their first event there (a flag outside the mapping), before the change.
  for (const user of USERS) {
    const client = await connectUser(tt, b.dovecot, user)
    await client.mailboxOpen('INBOX')
    await client.messageFlagsAdd('1', ['\\Flagged'], { uid: true })
    await client.logout() // not left connected to the Dovecot this test stops
  }
  await waitFor(async () => (await bridgeStatus(b)).counters.syncs >= USERS.length, { what: 'B\'s first read of every user' })
  // B's Dovecot away while every user's messages change on A: B's node takes the changes, its
  // bridge cannot apply them, and when Dovecot is back one feed batch holds every user, whose
  // STOREs then run at once.
  await b.dovecot.stop()
  await Promise.all(USERS.map(async user => await doveadmOk(a.dovecot, ['flags', 'add', '-u', user, '\\Seen', 'mailbox', 'INBOX', 'ALL'])))
  const total = USERS.length * MESSAGES
  await waitFor(async () => (await bridgeStatus(b)).behind >= total, { what: 'B\'s node to have every change' })
  b.dovecot = await restartDovecot(tt, b.dovecot)
  await waitFor(async () => { try { await expectSeen(b.dovecot, USERS, total, 'B'); return true } catch { return false } }, { timeoutMs: 120_000, what: 'every message seen on B' })
  await waitFor(async () => (await bridgeStatus(b)).behind === 0, { what: 'B\'s bridge through its feed' })
  const [onA, onB] = [await bridgeStatus(a), await bridgeStatus(b)]
  tt.equal(onA.counters.posted, total, 'A entered every change')
  tt.equal(onB.counters.applied, total, 'B counted every copy it changed')
  tt.equal(onB.counters.echoes, total, 'as many as its own writes that came back through its spool')
})
