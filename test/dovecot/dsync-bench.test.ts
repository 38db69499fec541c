import t from 'tap'
import { join } from 'node:path'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { measureDsync, prepareDsyncPair } from '../bench/dsync.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the dsync benchmark check: ${DOVECOT_SKIP}`)

// The benchmark's method on a tiny mailbox, so that `npm run bench:dsync` and the speed benchmark
// that calls measureDsync keep working; the module itself checks on B that every flag arrived.
t.test('measureDsync moves every \\Seen change from A to B (both formats, in turn and in parallel, B copied or backed up)', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const sdbox = await measureDsync({ users: 2, messagesPerUser: 50, format: 'sdbox', parallel: false, dir: join(dir, 'sdbox') })
  tt.equal(sdbox.changes, 100)
  tt.ok(sdbox.seconds > 0 && sdbox.perSecond === sdbox.changes / sdbox.seconds)
  tt.ok(sdbox.commandSeconds > 0, 'the doveadm flags command that made the changes is timed apart')
  const pair = await prepareDsyncPair(join(dir, 'maildir'), 2, 30, 'maildir', 'backup')
  try {
    tt.equal((await pair.measure(true)).changes, 60, '+\\Seen on all, users in parallel')
    tt.equal((await pair.measure(false)).changes, 60, '-\\Seen on all, users in turn')
    tt.ok(await pair.measureOneChange() > 0)
  } finally {
    await pair.stop()
  }
})
