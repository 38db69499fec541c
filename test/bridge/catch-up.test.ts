import t from 'tap'
import { unlink } from 'node:fs/promises'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { bridgeStatus, connectUser, deliver, setStatus, startBridgeMesh, statusesOf, uidsOf, waitForStatus, winnerOn, type Host } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge catch-up test: ${DOVECOT_SKIP}`)

const bridgeCounters = async (host: Host): Promise<Record<string, number>> => (await bridgeStatus(host)).counters

t.test('a catch-up finds an expunge the spool lost, and lists a mailbox only when its count changed', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const mesh = await startBridgeMesh(tt, dir, ['a', 'b'])
  const { hosts } = mesh
  const a = await connectUser(tt, hosts.a!.dovecot, 'alice')
  const b = await connectUser(tt, hosts.b!.dovecot, 'alice')
  await deliver(a, ['<c1@t>', '<c2@t>', '<c3@t>'])
  await deliver(b, ['<c3@t>', '<c2@t>', '<c1@t>'])
  // Both bridges know the mailbox once a change made on A is visible on B.
  await setStatus(a, '<c3@t>', 'read')
  await waitForStatus(b, '<c3@t>', 'read', 'c3 read on B')

  // A's node is down while the user deletes c1 for good (\Deleted, then EXPUNGE), and the
  // spool with both events is lost: only the catch-up at A's restart can find the delete.
  await hosts.a!.daemon.stop()
  const [uid] = await uidsOf(a, '<c1@t>')
  const lock = await a.getMailboxLock('INBOX')
  try {
    tt.ok(await a.messageDelete(String(uid), { uid: true }), 'c1 expunged on A')
  } finally {
    lock.release()
  }
  tt.same(await statusesOf(a, '<c1@t>'), [], 'no copy of c1 left on A')
  await unlink(hosts.a!.spool)
  const restarted = await mesh.restart('a')
  await waitFor(async () => await winnerOn(restarted.api, 'alice', '<c1@t>') === 'deleted', { what: 'A to enter c1 as deleted' })
  await waitForStatus(b, '<c1@t>', 'deleted', 'c1 deleted on B')
  tt.ok((await bridgeCounters(restarted)).expungeSearches >= 1, 'the count differed, so the catch-up listed the mailbox')

  // Nothing expunged since: the next start's catch-up reads the mailbox without listing it.
  await restarted.daemon.stop()
  const again = await mesh.restart('a')
  await waitFor(async () => (await bridgeCounters(again)).catchUps >= 1, { what: 'the catch-up at A\'s second start' })
  const counters = await bridgeCounters(again)
  tt.ok(counters.syncs >= 1, 'the catch-up read the mailbox')
  tt.equal(counters.expungeSearches, 0, 'and did not list its UIDs')
  tt.equal(await winnerOn(again.api, 'alice', '<c2@t>'), undefined, 'c2 still has no change anywhere')
  tt.same(await statusesOf(b, '<c2@t>'), ['unread'])
})
