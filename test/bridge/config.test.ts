import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseMesh } from '../../src/config/mesh.js'
import { checkMeshFile } from '../../src/config/load.js'
import { DEFAULT_BRIDGE_CATCH_UP_MS } from '../../src/limits.js'
import { parseSpoolLine } from '../../src/bridge/spool-line.js'
import { messageIdOf, statusOfFlags } from '../../src/bridge/flags.js'
import { tempDir } from '../helpers/tmp.js'

function meshWith (dovecot: unknown): Record<string, unknown> {
  return {
    cluster: 'c',
    secret: { file: 'secret' },
    nodes: [{ id: 'a', peerUrl: 'ws://127.0.0.1:7900', api: '127.0.0.1:7801', dataDir: 'data', dovecot }]
  }
}

t.test('a dovecot section is parsed with defaults and paths resolved against the mesh file', async tt => {
  const { mesh, problems } = parseMesh(meshWith({ masterPasswordFile: 'master.secret', spool: '/var/spool/marksync/events.log' }), '/etc/marksync')
  tt.same(problems.lines(), [])
  tt.same(mesh.nodes[0]?.dovecot, {
    imap: { host: '127.0.0.1', port: 143 },
    masterUser: 'marksync',
    masterPasswordFile: '/etc/marksync/master.secret',
    spool: '/var/spool/marksync/events.log',
    users: [],
    catchUpIntervalMs: DEFAULT_BRIDGE_CATCH_UP_MS
  })
  const full = parseMesh(meshWith({ imap: '127.0.0.1:1143', masterUser: 'mx', masterPasswordFile: 'p', spool: 's', mailboxes: ['INBOX', 'Archive'], users: ['alice'], catchUpInterval: '30s' }), '/m')
  tt.match(full.mesh.nodes[0]?.dovecot, { imap: { port: 1143 }, masterUser: 'mx', mailboxes: ['INBOX', 'Archive'], users: ['alice'], catchUpIntervalMs: 30_000 })
})

t.test('every mistake in a dovecot section is reported with its path', async tt => {
  const { problems } = parseMesh(meshWith({ imap: 'nohost', masterUser: 'a b', spool: '', mailboxes: [], users: [''], catchUpInterval: '10ms', extra: 1 }), '/m')
  const lines = problems.lines().join('\n')
  for (const path of ['nodes[0].dovecot.imap', 'nodes[0].dovecot.masterUser', 'nodes[0].dovecot.masterPasswordFile', 'nodes[0].dovecot.spool', 'nodes[0].dovecot.mailboxes', 'nodes[0].dovecot.users[0]', 'nodes[0].dovecot.catchUpInterval', 'nodes[0].dovecot.extra']) {
    tt.match(lines, path, path)
  }
  tt.match(parseMesh(meshWith('yes'), '/m').problems.lines().join('\n'), 'nodes[0].dovecot')
})

t.test('config check reads the master password file', async tt => {
  const dir = await tempDir(tt)
  await writeFile(join(dir, 'secret'), 'a-cluster-secret-of-32-bytes-xxxx')
  const file = join(dir, 'mesh.json')
  await writeFile(file, JSON.stringify(meshWith({ masterPasswordFile: 'master.secret', spool: 'spool/events.log' })))
  tt.match(checkMeshFile(file).problems.lines().join('\n'), /nodes\[0\]\.dovecot\.masterPasswordFile.*cannot read secret file/)
  await writeFile(join(dir, 'master.secret'), 'pw\n')
  tt.same(checkMeshFile(file).problems.lines(), [])
})

t.test('spool lines and flags map as docs/dovecot.md says', async tt => {
  tt.same(parseSpoolLine('v1\tal%09ice\tflags-set\tINBOX\t17\t5\t\\Seen\tmarksync'), { user: 'al\tice', kind: 'flags-set', mailbox: 'INBOX', uidValidity: 17, uid: 5, flags: '\\Seen', origin: 'marksync' })
  for (const bad of ['v2\ta\tnew\tINBOX\t1\t1\t\t', 'v1\ta\tnope\tINBOX\t1\t1\t\t', 'v1\ta\tnew\tINBOX\tx\t1\t\t', 'v1\t\tnew\tINBOX\t1\t1\t\t', 'garbage']) tt.equal(parseSpoolLine(bad), undefined, bad)
  tt.equal(statusOfFlags(['\\Seen', '\\Deleted']), 'deleted')
  tt.equal(statusOfFlags(['\\Seen', '\\Flagged']), 'read')
  tt.equal(statusOfFlags(['\\Answered']), 'unread')
  tt.equal(messageIdOf(Buffer.from('Message-ID:\r\n  <a@b>\r\n\r\n')), '<a@b>')
  tt.equal(messageIdOf(Buffer.from('\r\n')), undefined)
})
