import t from 'tap'
import { DOVECOT_SKIP, restartDovecot } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'
import { connectUser, deliver, nodeStatus, setStatus, startBridgeMesh, statusesOf, waitForStatus, type Host } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge purged-feed test: ${DOVECOT_SKIP}`)

const IDS = ['<p1@t>', '<p2@t>', '<p3@t>']

/**
 * docs/dovecot.md, "How it stays correct": if entries were purged before the bridge applied them
 * (its Dovecot away for longer than the retention), the bridge re-applies the winners of every
 * message it knows. Nothing else would bring the change to B: B's Dovecot did not change, so
 * its catch-up finds nothing, and the entry is gone from the feed.
 */
t.test('a bridge whose feed was purged past its cursor re-applies every known winner', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const mesh = await startBridgeMesh(tt, dir, ['a', 'b'], undefined, { settings: { retention: '2s', purgeInterval: '250ms' } })
  const hosts = mesh.hosts as Record<string, Host>
  const a = await connectUser(tt, hosts.a!.dovecot, 'alice')
  let b = await connectUser(tt, hosts.b!.dovecot, 'alice')
  await deliver(a, IDS)
  await deliver(b, IDS)
  // Both bridges know alice and her messages.
  await setStatus(a, '<p1@t>', 'read')
  await waitForStatus(b, '<p1@t>', 'read', 'p1 read on B')

  await b.logout() // not left connected to the Dovecot this test stops
  await hosts.b!.dovecot.stop()
  await setStatus(a, '<p2@t>', 'read')
  // B's node has the change; its bridge could not apply it, and the purge removed it.
  await waitFor(async () => { const s = await nodeStatus(hosts.b!); return s.oldestSeq - 1 > s.bridge.cursor }, { timeoutMs: 30_000, what: 'B\'s feed purged past its bridge\'s cursor' })

  hosts.b!.dovecot = await restartDovecot(tt, hosts.b!.dovecot)
  b = await connectUser(tt, hosts.b!.dovecot, 'alice')
  await waitForStatus(b, '<p2@t>', 'read', 'p2 read on B, from the winners re-applied')
  tt.same(await statusesOf(b, '<p3@t>'), ['unread'], 'an unchanged message stays as it was')
})
