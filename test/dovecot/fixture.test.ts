import t from 'tap'
import { connect } from 'node:net'
import { ImapFlow } from 'imapflow'
import { DOVECOT_SKIP, descendants, isRunning, startDovecot, type DovecotInstance } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { join } from 'node:path'
import { chown, readFile, stat, writeFile } from 'node:fs/promises'
import { waitFor } from '../helpers/wait.js'

if (DOVECOT_SKIP !== false) t.comment(`skipping the Dovecot tests: ${DOVECOT_SKIP}`)

const MESSAGE = [
  'From: Alice <alice@example.test>',
  'To: Bob <bob@example.test>',
  'Subject: fixture',
  'Message-ID: <fixture.1@marksync.test>',
  '',
  'hello',
  ''
].join('\r\n')

function client (dovecot: DovecotInstance, user: string, pass: string): ImapFlow {
  return new ImapFlow({ ...dovecot.imap, secure: false, auth: { user, pass }, logger: false })
}

async function refused (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => resolve(true))
  })
}

t.test('two Dovecot instances: IMAP login, APPEND, master user, dsync between them', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const a = await startDovecot(tt, { dir: join(dir, 'a') })
  const b = await startDovecot(tt, { dir: join(dir, 'b') })
  tt.not(a.imapPort, b.imapPort)
  tt.not(a.masterPid, b.masterPid)

  const alice = client(a, 'alice', 'secret')
  await alice.connect()
  const appended = await alice.append('INBOX', MESSAGE, [])
  tt.ok(appended !== false && appended.uid !== undefined, 'APPEND returned a UID')
  await alice.logout()

  // The master user acts as alice: sees her message and changes its flags.
  const bridge = client(a, 'alice*marksync', 'masterpw')
  await bridge.connect()
  const lock = await bridge.getMailboxLock('INBOX')
  try {
    const found = await bridge.search({ header: { 'message-id': '<fixture.1@marksync.test>' } }, { uid: true })
    tt.same(found, [1], 'the master session sees alice\'s message')
    await bridge.messageFlagsAdd('1', ['\\Seen'], { uid: true })
  } finally {
    lock.release()
  }
  await bridge.logout()
  const flags = await a.doveadm(['-f', 'flow', 'fetch', '-u', 'alice', 'flags', 'mailbox', 'INBOX', 'ALL'])
  tt.equal(flags.code, 0, flags.stderr)
  tt.match(flags.stdout, /\\Seen/, 'the master user\'s STORE is on alice\'s message')

  const wrong = client(a, 'alice*marksync', 'nope')
  await tt.rejects(wrong.connect(), 'a wrong master password is refused')

  // B is a separate host: nothing of A's there until dsync copies it over B's doveadm listener.
  const before = await b.doveadm(['-f', 'flow', 'mailbox', 'status', '-u', 'alice', 'messages', 'INBOX'])
  tt.notMatch(before.stdout, /messages=1/)
  const backup = await a.doveadm(['backup', '-u', 'alice', `tcp:127.0.0.1:${b.doveadmPort}`])
  tt.equal(backup.code, 0, backup.stderr)
  const after = await b.doveadm(['-f', 'flow', 'fetch', '-u', 'alice', 'flags hdr.message-id', 'mailbox', 'INBOX', 'ALL'])
  tt.match(after.stdout, /\\Seen.*<fixture\.1@marksync\.test>/, 'dsync copied the message and its flag to B')
})

t.test('stop() ends the master and every process it started, and is idempotent', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const dovecot = await startDovecot(tt, { dir, mailFormat: 'maildir' })
  const imap = client(dovecot, 'bob', 'secret')
  await imap.connect()
  await imap.mailboxOpen('INBOX')
  const started = [dovecot.masterPid, ...descendants(dovecot.masterPid)]
  tt.ok(started.length >= 4, `the master runs its services (${started.length} processes)`)
  await dovecot.stop()
  imap.close()
  tt.same(started.filter(isRunning), [], 'no process of the instance is left')
  tt.ok(await refused(dovecot.imapPort), 'the IMAP port is closed')
  await dovecot.stop()
})

t.test('bad users are refused before anything starts', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  await tt.rejects(startDovecot(tt, { dir, users: { 'al:ice': 'x' } }), TypeError)
  await tt.rejects(startDovecot(tt, { dir, users: { alice: 'a\nb' } }), TypeError)
})

// A push-notification Lua driver of the test's own: one line per flag set, with the userdb origin tag.
const LUA_DRIVER = `
function dovecot_lua_notify_begin_txn (user)
  return { user = user.username, origin = user:plugin_getenv("marksync_origin") or "", sink = user:plugin_getenv("fixture_sink") }
end
function dovecot_lua_notify_event_flags_set (ctx, ev)
  local out = io.open(ctx.sink, "a")
  out:write(ctx.user .. " " .. ctx.origin .. " " .. table.concat(ev.flags, ",") .. "\\n")
  out:close()
end
function dovecot_lua_notify_end_txn (ctx, success) end
`

t.test('plugins: true loads the Lua push driver of extraConfig; master-user writes carry the origin tag', { skip: DOVECOT_SKIP }, async tt => {
  const dir = await tempDir(tt)
  const script = join(dir, 'driver.lua')
  const sink = join(dir, 'events.log')
  await writeFile(script, LUA_DRIVER)
  await writeFile(sink, '')
  const dovecot = await startDovecot(tt, {
    dir: join(dir, 'dovecot'),
    plugins: true,
    extraConfig: `plugin {\n  push_notification_driver = lua:file=${script}\n  fixture_sink = ${sink}\n}\n`
  })
  // The driver runs in the imap process, as vmail.
  const owner = await stat(join(dovecot.dir, 'mail'))
  await chown(sink, owner.uid, owner.gid)
  for (const [user, pass, flag] of [['alice', 'secret', '\\Seen'], ['alice*marksync', 'masterpw', '\\Deleted']]) {
    const imap = client(dovecot, user, pass)
    await imap.connect()
    if (user === 'alice') await imap.append('INBOX', MESSAGE, [])
    await imap.mailboxOpen('INBOX')
    await imap.messageFlagsAdd('1', [flag], { uid: true })
    await imap.logout()
  }
  const lines = await waitFor(async () => {
    const text = await readFile(sink, 'utf8')
    return text.includes('\\Deleted') ? text.trim().split('\n') : undefined
  }, { what: 'both flag events in the sink' })
  tt.same(lines, ['alice yes \\Seen', 'alice marksync \\Deleted'], 'a user\'s own login is "yes", the master user\'s is its name')
})
