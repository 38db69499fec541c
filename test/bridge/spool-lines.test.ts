import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { parseSpoolLine } from '../../src/bridge/spool-line.js'
import { startLabHost } from '../../src/bridge/dovecot-lab-host.js'
import { fill } from '../helpers/mail-fill.js'
import { connectUser } from './harness.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the spool line test: ${DOVECOT_SKIP}`)

const USERS = Array.from({ length: 10 }, (_, i) => `u${String(i + 1).padStart(2, '0')}`)
const MESSAGES = 500
const ROUNDS = 2

/**
 * Every imap process appends to the one spool. A transaction's lines (here 500, ~35 KiB) must
 * reach the file in one write(): written in two, another process's append can land between
 * them and cut a line in half, and the bridge would drop both halves as bad lines. The race
 * needs a loaded machine to show (the 10 x 10,000 bench cut 4-8 lines with the old script;
 * this test did not on a quiet machine): here it guards, the bench's `badLines` measures.
 */
t.test('large transactions of many processes at once leave only whole lines in the spool', { skip: DOVECOT_SKIP }, async t => {
  const dir = await tempDir(t)
  const users = Object.fromEntries(USERS.map(u => [u, 'secret']))
  const host = await startLabHost(t, join(dir, 'host'), { users, mailFormat: 'maildir', masterPassword: 'spool-lines-pw' })
  await fill(host.dovecot, USERS, MESSAGES, 'maildir')
  const clients = await Promise.all(USERS.map(async user => await connectUser(t, host.dovecot, user)))
  await Promise.all(clients.map(async client => {
    await client.mailboxOpen('INBOX')
    for (let round = 0; round < ROUNDS; round++) {
      t.ok(await client.messageFlagsAdd('1:*', ['\\Seen']), 'STORE +FLAGS')
      t.ok(await client.messageFlagsRemove('1:*', ['\\Seen']), 'STORE -FLAGS')
    }
  }))
  // Each STORE is committed (and its lines written) before Dovecot answers it.
  const lines = (await readFile(host.spool, 'utf8')).split('\n').filter(line => line !== '')
  const events = lines.map(parseSpoolLine)
  t.equal(events.filter(e => e === undefined).length, 0, 'no line is cut or mixed with another')
  t.equal(events.filter(e => (e?.kind === 'flags-set' || e?.kind === 'flags-clear') && e.flags === '').length, 0, 'no flag event without a system flag')
  for (const user of USERS) {
    const seen = events.filter(e => e?.user === user && e.flags.split(' ').includes('\\Seen'))
    t.equal(seen.filter(e => e?.kind === 'flags-set').length, MESSAGES * ROUNDS, `${user}: every \\Seen set`)
    t.equal(seen.filter(e => e?.kind === 'flags-clear').length, MESSAGES * ROUNDS, `${user}: every \\Seen cleared`)
  }
})
