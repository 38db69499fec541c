import t from 'tap'
import { freeLoopbackPort } from '../../src/bridge/dovecot-lab-procs.js'

// The kernel hands out a port it just closed again (16-22 repeats in 500 listens on port 0 here),
// and a mesh file with two nodes on one port does not start. Each port handed out is new.
t.test('freeLoopbackPort never hands out a port twice in one process', async t => {
  const ports = new Set<number>()
  for (let i = 0; i < 500; i++) ports.add(await freeLoopbackPort())
  t.equal(ports.size, 500, '500 different ports')
})
