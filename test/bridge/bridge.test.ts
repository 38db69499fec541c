import t from 'tap'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { apiCall } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'
import { connectUser, deliver, originsOf, setStatus, startBridgeMesh, statusesOf, waitConverged, waitForStatus, winnerOn } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge tests: ${DOVECOT_SKIP}`)

t.test('two hosts: read, unread, delete, a conflict and a late delivery reach the other Dovecot', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const { hosts } = await startBridgeMesh(tt, dir, ['a', 'b'])
  const a = await connectUser(tt, hosts.a!.dovecot, 'alice')
  const b = await connectUser(tt, hosts.b!.dovecot, 'alice')
  // Each host gets its own copy, in another order: UIDs differ, Message-IDs match.
  await deliver(a, ['<m1@t>', '<m2@t>', '<m3@t>', '<m4@t>'])
  await deliver(b, ['<m3@t>', '<m1@t>', '<m2@t>'])
  // No Message-ID: nothing to share it by; the bridge counts it and leaves it alone.
  await b.append('INBOX', 'Subject: no id\r\n\r\nbody\r\n', ['\\Seen'])

  await setStatus(a, '<m1@t>', 'read')
  await waitForStatus(b, '<m1@t>', 'read', 'm1 read on B after a read on A')

  await setStatus(b, '<m1@t>', 'unread')
  await waitForStatus(a, '<m1@t>', 'unread', 'm1 unread on A after unread on B')

  await setStatus(a, '<m2@t>', 'deleted')
  await waitForStatus(b, '<m2@t>', 'deleted', 'm2 deleted on B')

  // Conflict: unread on A, then read on B a moment later. The later change wins on both hosts
  // (dsync keeps the earlier "unread" here: docs/dovecot.md).
  await setStatus(a, '<m3@t>', 'read')
  await waitForStatus(b, '<m3@t>', 'read', 'm3 read on B')
  await setStatus(a, '<m3@t>', 'unread')
  await waitFor(async () => await winnerOn(hosts.a!.api, 'alice', '<m3@t>') === 'unread', { what: 'A to enter its unread' })
  await setStatus(b, '<m3@t>', 'read')
  await waitForStatus(a, '<m3@t>', 'read', 'm3 read on A: the later read won')
  await waitForStatus(b, '<m3@t>', 'read', 'm3 still read on B')

  // m4 reaches B only after A marked it read: it arrives already read.
  await setStatus(a, '<m4@t>', 'read')
  await waitFor(async () => await winnerOn(hosts.b!.api, 'alice', '<m4@t>') === 'read', { what: 'B to know m4 is read' })
  await deliver(b, ['<m4@t>'])
  await waitForStatus(b, '<m4@t>', 'read', 'm4 read on arrival at B')

  const winners = await waitConverged([hosts.a!, hosts.b!], { a, b }, 'alice', ['<m1@t>', '<m2@t>', '<m3@t>', '<m4@t>'])
  tt.same(Object.fromEntries(winners), { '<m1@t>': 'unread', '<m2@t>': 'deleted', '<m3@t>': 'read', '<m4@t>': 'read' })
  // Every user action entered exactly once, at its origin: no echo of the bridges' own writes.
  for (const host of [hosts.a!, hosts.b!]) tt.same(await originsOf(host.api, 'alice'), { a: 5, b: 2 }, `log of ${host.id}`)

  const status = await apiCall(hosts.b!.api, 'GET', '/v1/status')
  tt.match(status.body.bridge, { state: 'ok', behind: 0, counters: { noMessageId: 1 } })
  tt.ok(status.body.bridge.counters.echoes > 0, 'the bridge dropped its own writes coming back through the spool')
  const metrics = await apiCall(hosts.b!.api, 'GET', '/metrics')
  tt.match(metrics.text, /marksync_bridge_up 1/)
  tt.same(await statusesOf(b, '<m2@t>'), ['deleted'])
})
