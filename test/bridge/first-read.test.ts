import t from 'tap'
import { unlink } from 'node:fs/promises'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { fill } from '../helpers/mail-fill.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { bridgeStatus, connectUser, setStatus, startBridgeMesh, statusesOf, waitForStatus, type Host } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge first-read test: ${DOVECOT_SKIP}`)

const MESSAGES = 20
const id = (n: number): string => `<u01.${String(n).padStart(6, '0')}@marksync.test>`

/**
 * A bridge meets a user it has no state for at their first spool event (A) or first feed entry
 * (B), and reads every mailbox of theirs then, once. Later changes go by events and the feed
 * alone: no further mailbox read on either host, also not when A's own changes come back to
 * A's bridge through the feed (its copies already show them).
 */
t.test('a user unknown to the bridge is read in full once, at first contact', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const mesh = await startBridgeMesh(tt, dir, ['a', 'b'], undefined, {
    users: { u01: 'secret' },
    mailFormat: 'maildir',
    prepare: async dovecots => {
      for (const { dovecot, spool } of Object.values(dovecots)) {
        await fill(dovecot, ['u01'], MESSAGES, 'maildir')
        await unlink(spool).catch(() => {})
      }
    }
  })
  const { a, b } = mesh.hosts as Record<string, Host>
  const userA = await connectUser(tt, a.dovecot, 'u01')
  const userB = await connectUser(tt, b.dovecot, 'u01')
  const mailboxes = (await userA.list()).filter(box => !box.flags.has('\\Noselect') && !box.flags.has('\\NonExistent')).length

  for (const n of [0, 1, 2]) {
    await setStatus(userA, id(n), 'read')
    await waitForStatus(userB, id(n), 'read', `message ${n} read on B`)
  }
  // A's bridge has taken A's own entries from the feed too.
  await waitFor(async () => (await bridgeStatus(a)).behind === 0, { what: 'A\'s bridge through its feed' })
  const [onA, onB] = [await bridgeStatus(a), await bridgeStatus(b)]
  tt.equal(onA.counters.syncs, mailboxes, 'A read each mailbox once, at the first event')
  tt.equal(onB.counters.syncs, mailboxes, 'B read each mailbox once, at the first feed entry')
  tt.equal(onA.counters.posted, 3, 'A entered the three reads')
  tt.equal(onA.counters.applied, 0, 'and wrote nothing back to its own Dovecot')
  tt.equal(onB.counters.applied, 3, 'B applied them')
  tt.same(await statusesOf(userB, id(3)), ['unread'], 'the rest is untouched on B')
})
