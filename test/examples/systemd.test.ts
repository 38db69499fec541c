import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { chmod, chown, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BIN, DaemonProcess, ROOT, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { EXIT } from '../../src/daemon/exit-codes.js'
import { unitEnvironment } from '../bench/unit-env.js'
import { spawn } from 'node:child_process'

/**
 * docs/operations.md "Running under systemd", followed as written in a scratch root:
 * its shell block runs with /etc pointed into the root and --root given to
 * systemd-sysusers and systemd-tmpfiles (systemctl needs a running systemd and apt-get
 * changes the host: both left out); systemd-analyze verifies the unit; the unit's command
 * line and environment then start a node as the user the sysusers file created, reading
 * the secret through the group the tmpfiles file gave it.
 */
const run = promisify(execFile)
const EXAMPLES = join(ROOT, 'examples', 'systemd')
const TOOLS = ['systemd-sysusers', 'systemd-tmpfiles', 'systemd-analyze']
const missing = TOOLS.filter(tool => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
const SYSTEM_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system'].find(dir => existsSync(join(dir, 'multi-user.target')))

async function docsBlock (): Promise<string> {
  const doc = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')
  const section = doc.slice(doc.indexOf('### Running under systemd'))
  const match = /```sh\n([^]*?)```/.exec(section)
  if (match === null) throw new Error('no shell block under "Running under systemd"')
  return match[1] as string
}

/** The block as it would run on a host, with /etc inside `root` and the tools told so. */
function inScratchRoot (block: string, root: string, meshFile: string): string {
  return block.split('\n').filter(line => !line.startsWith('systemctl ') && !line.startsWith('apt-get ')).map(line => line
    .replace('cd "$(npm root -g)/marksync/examples/systemd"', `cd '${EXAMPLES}'`)
    .replaceAll('/etc/', `${root}/etc/`)
    .replace(/^(systemd-sysusers|systemd-tmpfiles) /, `$1 --root='${root}' `)
    .replace(/^cp mesh\.json /, `cp '${meshFile}' `)
    .replace(/^marksync /, `'${process.execPath}' '${BIN}' `)
  ).join('\n')
}

t.test('the systemd how-to, followed as written, gives a unit that verifies and a node that starts', { skip: missing.length > 0 || SYSTEM_UNITS === undefined ? `needs ${missing.join(', ') || 'the system unit directory'} (Debian package systemd; not as PID 1)` : false }, async tt => {
  const root = await tempDir(tt, 'marksync-root-')
  await chmod(root, 0o755) // the marksync user must get through it, as through /
  for (const file of ['passwd', 'group', 'shadow', 'gshadow']) await mkdir(join(root, 'etc'), { recursive: true }).then(async () => await writeFile(join(root, 'etc', file), ''))
  const source = await tempDir(tt)
  const mesh = await writeMesh(source, { nodes: ['mx1', 'mx2'] })
  const json = structuredClone(mesh.json) as { nodes: Array<{ dataDir: string }> }
  // Both nodes are on this machine here, so mx2 (never started) needs a directory of its own.
  json.nodes.forEach((node, i) => { node.dataDir = join(root, 'var', 'lib', i === 0 ? 'marksync' : 'marksync-mx2') })
  await mesh.rewrite(json)

  const block = await docsBlock()
  tt.match(block, /^apt-get install -y libjemalloc2 /m, 'the how-to installs the allocator the unit preloads')
  const script = inScratchRoot(block, root, mesh.file)
  const steps = await run('sh', ['-e', '-c', script], { cwd: source })
  tt.match(steps.stdout, /OK, cluster "test", 2 nodes/, 'config check passed inside the how-to')
  const passwd = await readFile(join(root, 'etc', 'passwd'), 'utf8')
  const user = /^marksync:x:(\d+):(\d+):/m.exec(passwd)
  tt.ok(user, 'systemd-sysusers created the marksync user')
  const [uid, gid] = [Number(user?.[1]), Number(user?.[2])]
  const secret = await stat(join(root, 'etc', 'marksync', 'cluster.secret'))
  tt.same([secret.uid, secret.gid, secret.mode & 0o777], [0, gid, 0o640], 'the secret: root, group marksync, 0640')
  tt.equal((await readFile(join(root, 'etc', 'marksync', 'env'), 'utf8')).trim(), 'MARKSYNC_NODE=mx1')

  // systemd-analyze checks the unit and that its command resolves: give the root one.
  await cp(SYSTEM_UNITS as string, join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true })
  await mkdir(join(root, 'usr', 'local', 'bin'), { recursive: true })
  await writeFile(join(root, 'usr', 'local', 'bin', 'marksync'), '#!/bin/sh\n', { mode: 0o755 })
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, 'marksync.service'], { encoding: 'utf8' })
  tt.equal(verify.status, 0, verify.stderr)
  tt.equal(verify.stderr, '', 'no warning about the unit')

  const unit = await readFile(join(EXAMPLES, 'marksync.service'), 'utf8')
  tt.notMatch(unit, /%H/, 'the node id is said, not taken from the host name')
  // docs/dovecot.md's spool directory, where the bridge rotates the spool despite ProtectSystem=strict.
  tt.match(unit, /^ReadWritePaths=-\/var\/spool\/marksync$/m, 'the spool directory stays writable (optional: "-")')
  const prevent = (/^RestartPreventExitStatus=(.*)$/m.exec(unit)?.[1] ?? '').split(' ').map(Number)
  tt.same(prevent, [EXIT.USAGE, EXIT.LOCKED, EXIT.DATA_DIR_MISMATCH, EXIT.DATA_DIR_UNUSABLE])
  if (process.getuid?.() !== 0) return tt.comment('starting as the marksync user skipped: needs root to switch users')
  const words = (/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '').split(' ')
  const args = words.slice(1).map(w => w.replace('${MARKSYNC_NODE}', 'mx1').replace(/^\/etc\//, `${root}/etc/`))
  await mkdir(join(root, 'var', 'lib'), { recursive: true, mode: 0o755 })
  await mkdir(join(root, 'var', 'lib', 'marksync'), { mode: 0o700 }) // what StateDirectory= does
  await chown(join(root, 'var', 'lib', 'marksync'), uid, gid)
  // Not the test runner's hooks: they write coverage and process info where this user may not.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !['NODE_OPTIONS', 'NODE_V8_COVERAGE'].includes(key))), ...unitEnvironment(unit) }
  const child = spawn(process.execPath, [BIN, ...args], { uid, gid, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const node = new DaemonProcess('mx1', child)
  tt.teardown(async () => { if (node.running) { child.kill('SIGKILL'); await node.exited } })
  await node.ready(60_000)
  tt.same(await node.stop(), { code: 0, signal: null }, node.stderr)
})
