import t from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { tempDir } from '../helpers/tmp.js'
import { apiCall, BIN, DaemonProcess, ROOT, writeMesh } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'
import { startLabHost } from '../../src/bridge/dovecot-lab-host.js'
import { connectUser, deliver, setStatus, winnerOn } from './harness.js'

/**
 * docs/dovecot.md "Install: the Dovecot side", followed as written for the spool directory, with
 * the node running as an unprivileged user of its own (what examples/systemd/marksync.service
 * does): the Lua script creates the spool with the mail process's umask (0600), and the bridge,
 * in the group the docs name, must still read it. The master secret gets the owner and mode the
 * shipped tmpfiles line gives it.
 */
const DOCS = join(ROOT, 'docs', 'dovecot.md')
const TMPFILES = join(ROOT, 'examples', 'systemd', 'marksync.tmpfiles')
const hasSetfacl = spawnSync('sh', ['-c', 'command -v setfacl']).status === 0
const SKIP = DOVECOT_SKIP !== false
  ? DOVECOT_SKIP
  : hasSetfacl ? false : 'setfacl is not installed; install it with: apt-get install acl dovecot-imapd'
const MASTER_PASSWORD = 'spool-perm-master-pw'

if (SKIP !== false) t.comment(`skipping the spool permission test: ${SKIP}`)

/** The docs' commands that prepare /var/spool/marksync, pointed at `dir` and the group `group`. */
async function spoolCommands (dir: string, group: string, withAcl = true): Promise<string> {
  const doc = await readFile(DOCS, 'utf8')
  const section = doc.slice(doc.indexOf('## Install: the Dovecot side'))
  const block = /```sh\n([^]*?)```/.exec(section)?.[1] ?? ''
  const lines = block.split('\n').filter(line => /^(chown|chmod|setfacl) /.test(line) && line.includes('/var/spool/marksync'))
  if (!lines.some(line => line.startsWith('chown '))) throw new Error('docs/dovecot.md: no chown of /var/spool/marksync')
  return lines.filter(line => withAcl || !line.startsWith('setfacl '))
    .map(line => line.replaceAll('/var/spool/marksync', '@SPOOL@').replaceAll('marksync', group).replaceAll('@SPOOL@', `'${dir}'`))
    .join('\n')
}

/** A system user and group of its own, removed at teardown. */
function scratchUser (t: Teardown): { name: string, uid: number, gid: number } {
  const name = `mstest${process.pid}`
  execFileSync('useradd', ['-r', '-U', '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', name], { stdio: 'pipe' })
  t.teardown(() => {
    spawnSync('userdel', [name])
    spawnSync('groupdel', [name])
  })
  const id = (flag: string): number => Number(execFileSync('id', [flag, name]).toString())
  return { name, uid: id('-u'), gid: id('-g') }
}

/** What a mail process does: append to `file` as `vmail` with umask 077. */
function appendAsVmail (file: string): void {
  execFileSync('setpriv', ['--reuid=vmail', '--regid=vmail', '--clear-groups', 'sh', '-c', 'umask 077; echo line >> "$1"', 'sh', file], { stdio: 'pipe' })
}

function readableBy (file: string, uid: number, gid: number): boolean {
  return spawnSync('cat', [file], { uid, gid, stdio: 'ignore' }).status === 0
}

async function lastErrorOf (api: string): Promise<string | null> {
  return (await apiCall(api, 'GET', '/v1/status')).body.bridge?.lastError ?? null
}

/** The tmpfiles line for `name`: mode, user, group. */
async function tmpfilesLine (name: string): Promise<{ mode: number, user: string, group: string }> {
  const line = (await readFile(TMPFILES, 'utf8')).split('\n').find(l => l.startsWith('z ') && l.split(/\s+/)[1]?.endsWith(`/${name}`))
  if (line === undefined) throw new Error(`examples/systemd/marksync.tmpfiles has no line for ${name}`)
  const [, , mode, user, group] = line.split(/\s+/)
  return { mode: parseInt(mode as string, 8), user: user as string, group: group as string }
}

t.test('the spool as the docs prepare it: files a 0600 writer creates stay readable by the marksync group', { skip: SKIP }, async tt => {
  const root = await tempDir(tt)
  await chmod(root, 0o755)
  const user = scratchUser(tt)
  for (const [name, acl] of [['with-acl', true], ['without-acl', false]] as const) {
    const dir = join(root, name)
    await mkdir(dir)
    execFileSync('sh', ['-e', '-c', await spoolCommands(dir, user.name, acl)])
    appendAsVmail(join(dir, 'events.log'))
    tt.equal(readableBy(join(dir, 'events.log'), user.uid, user.gid), acl, `${name}: a spool written with umask 077 is ${acl ? '' : 'not '}readable by the group`)
  }
})

t.test('a node running as its own user reads the Lua spool and enters a user\'s \\Seen', { skip: SKIP }, async tt => {
  const root = await tempDir(tt)
  await chmod(root, 0o755) // the node's user must get through it, as through /
  const user = scratchUser(tt)
  const host = await startLabHost(tt, join(root, 'host'), { masterPassword: MASTER_PASSWORD })
  execFileSync('sh', ['-e', '-c', await spoolCommands(join(root, 'host', 'spool'), user.name)])

  const mesh = await writeMesh(join(root, 'mesh'), { nodes: ['a'] })
  const secretFile = join(mesh.dir, 'dovecot-master.secret')
  await writeFile(secretFile, MASTER_PASSWORD + '\n', { mode: 0o600 }) // as the docs write it, as root
  const json = mesh.json as { nodes: Array<Record<string, unknown>> }
  ;(json.nodes[0] as Record<string, unknown>).dovecot = { imap: `127.0.0.1:${host.dovecot.imapPort}`, masterUser: 'marksync', masterPasswordFile: 'dovecot-master.secret', spool: host.spool, catchUpInterval: '1m' }
  await mesh.rewrite(json)
  await mkdir(join(mesh.dir, 'data'))
  for (const file of [mesh.dir, mesh.file, mesh.secretFile, join(mesh.dir, 'data')]) await chown(file, user.uid, user.gid)
  const line = await tmpfilesLine('dovecot-master.secret')
  tt.same([line.user, line.group], ['root', 'marksync'], 'the tmpfiles line gives the master secret to root:marksync')
  await chown(secretFile, 0, user.gid)
  await chmod(secretFile, line.mode)

  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !['NODE_OPTIONS', 'NODE_V8_COVERAGE'].includes(key)))
  const child = spawn(process.execPath, [BIN, 'start', '--config', mesh.file, '--node', 'a'], { uid: user.uid, gid: user.gid, env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const node = new DaemonProcess('a', child)
  tt.teardown(async () => { if (node.running) { process.kill(node.pid, 'SIGKILL'); await node.exited } })
  await node.ready(60_000)
  const api = mesh.nodes.a?.api as string

  // alice is in no `users` list: only the spool tells the bridge about her change.
  const alice = await connectUser(tt, host.dovecot, 'alice')
  await deliver(alice, ['<perm-1@t>'])
  await setStatus(alice, '<perm-1@t>', 'read')
  await waitFor(async () => await winnerOn(api, 'alice', '<perm-1@t>') === 'read', { timeoutMs: 30_000, intervalMs: 50, what: 'the \\Seen entered on the node' })
    .catch(async err => { throw new Error(`${(err as Error).message}; the bridge's lastError: ${await lastErrorOf(api)}`) })
  const status = (await apiCall(api, 'GET', '/v1/status')).body.bridge
  tt.equal(status.lastError, null, 'no bridge error')
  tt.ok(status.spool.linesRead > 0, 'the change came through the spool')

  // A spool file the group cannot read (root's, made before the ACL was set), moved in whole so
  // the bridge never sees it readable: the bridge says so.
  const stray = join(root, 'events.log')
  await writeFile(stray, '', { mode: 0o600 })
  await rename(host.spool, `${host.spool}.old`)
  await rename(stray, host.spool)
  const unreadable = await waitFor(async () => {
    const error = await lastErrorOf(api)
    return error !== null && /SPOOL_UNREADABLE/.test(error) ? error : false
  }, { timeoutMs: 20_000, intervalMs: 50, what: 'the bridge to report the unreadable spool' })
  tt.match(unreadable, /setfacl/, `the error says how to fix it: ${unreadable}`)
  tt.ok(node.logs.some(l => l.event === 'bridge-error' && /SPOOL_UNREADABLE/.test(String(l.err))), 'logged as bridge-error')
  tt.same(await node.stop(), { code: 0, signal: null }, 'the node stopped cleanly')
})
