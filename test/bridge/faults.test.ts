import t from 'tap'
import { rename } from 'node:fs/promises'
import { DOVECOT_SKIP, restartDovecot } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { apiCall } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'
import { connectUser, deliver, originsOf, setStatus, startBridgeMesh, waitConverged, waitForStatus, winnerOn } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge fault tests: ${DOVECOT_SKIP}`)

const IDS = ['<f1@t>', '<f2@t>', '<f3@t>', '<f4@t>', '<f5@t>', '<f6@t>']

t.test('faults: marksync killed -9, Dovecot restarted, spool rotated: nothing lost, nothing twice', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const mesh = await startBridgeMesh(tt, dir, ['a', 'b'])
  const { hosts } = mesh
  const a = await connectUser(tt, hosts.a!.dovecot, 'alice')
  let b = await connectUser(tt, hosts.b!.dovecot, 'alice')
  await deliver(a, IDS)
  await deliver(b, [...IDS].reverse())
  const actions = { a: 0, b: 0 }

  // 1. B's marksync (and its bridge) killed -9. Meanwhile a change on A, and a change on B
  //    that B's bridge cannot see as it happens: the restart's catch-up must find it.
  await setStatus(a, '<f1@t>', 'read'); actions.a++
  await waitForStatus(b, '<f1@t>', 'read', 'f1 read on B before the kill')
  await hosts.b!.daemon.kill()
  await setStatus(a, '<f2@t>', 'read'); actions.a++
  await setStatus(b, '<f3@t>', 'deleted'); actions.b++
  await mesh.restart('b')
  await waitForStatus(b, '<f2@t>', 'read', 'f2 (changed on A while B was down) read on B')
  await waitForStatus(a, '<f3@t>', 'deleted', 'f3 (changed on B while its bridge was down) deleted on A')

  // 2. B's Dovecot restarted (unreachable for a while): A's change waits, then lands.
  const stopped = restartDovecot(tt, hosts.b!.dovecot)
  await setStatus(a, '<f4@t>', 'read'); actions.a++
  hosts.b!.dovecot = await stopped
  b = await connectUser(tt, hosts.b!.dovecot, 'alice')
  await waitForStatus(b, '<f4@t>', 'read', 'f4 read on B after its Dovecot came back')
  await setStatus(b, '<f4@t>', 'unread'); actions.b++
  await waitForStatus(a, '<f4@t>', 'unread', 'f4 unread on A: B\'s bridge reads its restarted Dovecot again')

  // 3. The spool moved aside (logrotate): the Lua script starts a new file, the bridge follows.
  await rename(hosts.b!.spool, `${hosts.b!.spool}.1`)
  await setStatus(b, '<f5@t>', 'read'); actions.b++
  await waitForStatus(a, '<f5@t>', 'read', 'f5 read on A after the rotation')
  await setStatus(b, '<f5@t>', 'unread'); actions.b++
  await waitForStatus(a, '<f5@t>', 'unread', 'f5 unread on A from the new spool file')

  // 4. A's marksync killed -9 right after a user's change on A: the change is in Dovecot
  //    (the user's client saw it succeed) and reaches B after the restart.
  await setStatus(a, '<f6@t>', 'deleted'); actions.a++
  await waitFor(async () => await winnerOn(hosts.a!.api, 'alice', '<f6@t>') === 'deleted', { what: 'A to enter f6' })
  await hosts.a!.daemon.kill()
  await mesh.restart('a')
  await waitForStatus(b, '<f6@t>', 'deleted', 'f6 deleted on B')

  const winners = await waitConverged([hosts.a!, hosts.b!], { a, b }, 'alice', IDS)
  tt.same(Object.fromEntries(winners), { '<f1@t>': 'read', '<f2@t>': 'read', '<f3@t>': 'deleted', '<f4@t>': 'unread', '<f5@t>': 'unread', '<f6@t>': 'deleted' })
  // Each user action entered once, at its origin; no bridge write came back as a change.
  for (const host of [hosts.a!, hosts.b!]) tt.same(await originsOf(host.api, 'alice'), actions, `log of ${host.id}`)
  const status = await apiCall(hosts.b!.api, 'GET', '/v1/status')
  tt.equal(status.body.bridge.state, 'ok')
  tt.ok(status.body.bridge.spool.rotations >= 1, 'B\'s bridge saw the rotation')
})
