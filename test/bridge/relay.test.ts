import t from 'tap'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { connectUser, deliver, originsOf, setStatus, startBridgeMesh, waitConverged, waitForStatus } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot bridge relay test: ${DOVECOT_SKIP}`)

t.test('three hosts in a line (a-b-c): a change on A reaches C through B, and back', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const { hosts } = await startBridgeMesh(tt, dir, ['a', 'b', 'c'], [['a', 'b'], ['b', 'c']])
  const clients = {
    a: await connectUser(tt, hosts.a!.dovecot, 'bob'),
    b: await connectUser(tt, hosts.b!.dovecot, 'bob'),
    c: await connectUser(tt, hosts.c!.dovecot, 'bob')
  }
  for (const client of Object.values(clients)) await deliver(client, ['<r1@t>', '<r2@t>'])
  await setStatus(clients.a, '<r1@t>', 'read')
  await waitForStatus(clients.c, '<r1@t>', 'read', 'r1 read on C, two hops from A')
  await setStatus(clients.c, '<r2@t>', 'deleted')
  await waitForStatus(clients.a, '<r2@t>', 'deleted', 'r2 deleted on A, two hops from C')
  const winners = await waitConverged([hosts.a!, hosts.b!, hosts.c!], clients, 'bob', ['<r1@t>', '<r2@t>'])
  tt.same(Object.fromEntries(winners), { '<r1@t>': 'read', '<r2@t>': 'deleted' })
  for (const host of Object.values(hosts)) tt.same(await originsOf(host.api, 'bob'), { a: 1, c: 1 }, `log of ${host.id}`)
})
