/**
 * Throwaway Dovecot 2.3 instances on 127.0.0.1 for `marksync demo --dovecot`, the tests and the
 * benchmarks: each has its own directory, free ports, users in a passwd-file, a master user
 * ("alice*marksync") and a doveadm TCP listener for dsync between instances. Needs root
 * (Dovecot drops to the `vmail` user, created here if missing) and Debian's `dovecot-imapd`;
 * DOVECOT_SKIP says why not otherwise. Every instance is stopped by its master's pid (and its
 * process group): by stop(), by whoever it was registered with, or when this process exits.
 */
import { spawn, execFileSync } from 'node:child_process'
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs'
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { tmpdir } from 'node:os'
import { dovecotConfig, instancePaths, passwdLine } from './dovecot-lab-config.js'
import { freeLoopbackPort } from './loopback-port.js'
import { canConnect, groupMembers, isRunning, killGroup, pollUntil, runProgram, type RunResult } from './dovecot-lab-procs.js'

export { descendants, groupMembers, isRunning } from './dovecot-lab-procs.js'

/** Whatever runs stop functions at its end: a test's teardown, the demo's list of what it started. */
export interface Teardown { teardown (fn: () => unknown): void }

export const DOVECOT_INSTALL = 'apt-get install dovecot-imapd'

/** How long the master may take to listen after `dovecot` returned, in ms (measured: ~30 ms). */
const START_TIMEOUT_MS = 10_000
/** How long the master may take to exit after SIGTERM before its group is killed, in ms (measured: ~1.1 s). */
const STOP_TIMEOUT_MS = 5_000
/** Longest a single doveadm call may run before it is killed, in ms (a 10k-message backup takes ~10 s). */
const DOVEADM_TIMEOUT_MS = 300_000
/** Attempts at starting when a port picked free was taken in between. */
const START_ATTEMPTS = 3
/** The uid the `vmail` user gets when it is created and that uid is free. */
const PREFERRED_VMAIL_UID = 5000

function findBinary (name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin']
  for (const dir of dirs.filter(d => d !== '')) {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {}
  }
  return undefined
}

const DOVECOT_BIN = findBinary('dovecot')
const DOVEADM_BIN = findBinary('doveadm')
const IS_ROOT = process.getuid?.() === 0

export const DOVECOT_AVAILABLE: boolean = DOVECOT_BIN !== undefined && DOVEADM_BIN !== undefined && IS_ROOT
export const DOVECOT_SKIP: string | false = DOVECOT_AVAILABLE
  ? false
  : DOVECOT_BIN === undefined || DOVEADM_BIN === undefined
    ? `Dovecot is not installed (no dovecot/doveadm binary); install it with: ${DOVECOT_INSTALL}`
    : `Dovecot tests and the Dovecot demo need root (Dovecot drops privileges to the vmail user); run as root with Dovecot installed (${DOVECOT_INSTALL})`

export interface DovecotOptions {
  /** A fresh directory of its own. */
  dir: string
  /** login -> password (default alice, bob, carol with password 'secret'). */
  users?: Record<string, string>
  /** Default 'sdbox': a fresh session opens a 10k mailbox in ~11 ms; maildir rescans `cur/`. */
  mailFormat?: 'maildir' | 'sdbox'
  /** Default { name: 'marksync', password: 'masterpw' }; log in as "alice*marksync". */
  masterUser?: { name: string, password: string }
  /** Appended verbatim to dovecot.conf after the base config. */
  extraConfig?: string
  /** Default false. True loads notify, push_notification, mail_lua and push_notification_lua. */
  plugins?: boolean
}

export type DoveadmResult = RunResult

export interface DovecotInstance {
  dir: string
  conf: string
  /** Dovecot's own log (log_path). */
  log: string
  imapPort: number
  doveadmPort: number
  masterPid: number
  imap: { host: '127.0.0.1', port: number }
  /** `doveadm -c conf ...args` */
  doveadm (args: string[]): Promise<DoveadmResult>
  /** SIGTERM to the master, wait with a deadline, then SIGKILL its process group; idempotent. */
  stop (): Promise<void>
}

export const DEFAULT_USERS: Readonly<Record<string, string>> = { alice: 'secret', bob: 'secret', carol: 'secret' }
export const DEFAULT_MASTER_USER = { name: 'marksync', password: 'masterpw' } as const

/** Process groups of running instances, killed if this process exits before stopping them. */
const liveGroups = new Set<number>()
process.on('exit', () => { for (const pgid of liveGroups) killGroup(pgid) })

export async function startDovecot (t: Teardown | undefined, options: DovecotOptions): Promise<DovecotInstance> {
  if (DOVECOT_SKIP !== false) throw new Error(DOVECOT_SKIP)
  const dir = resolve(options.dir)
  const p = instancePaths(dir)
  const users = options.users ?? DEFAULT_USERS
  const master = options.masterUser ?? DEFAULT_MASTER_USER
  const passwd = Object.entries(users).map(([u, pw]) => passwdLine(u, pw)).join('')
  const masterPasswd = passwdLine(master.name, master.password)
  const vmail = ensureVmailUser()
  await prepareDirectory(dir, vmail)
  await stopLeftover(p)
  // Read by the auth process, which runs as the packaged `dovecot` user.
  await writeFile(p.passwd, passwd, { mode: 0o644 })
  await writeFile(p.masterPasswd, masterPasswd, { mode: 0o644 })
  for (let attempt = 1; ; attempt++) {
    const imapPort = await freeLoopbackPort()
    const doveadmPort = await freeLoopbackPort()
    const config = dovecotConfig({ dir, imapPort, doveadmPort, mailFormat: options.mailFormat ?? 'sdbox', vmailUid: vmail.uid, plugins: options.plugins ?? false, extraConfig: options.extraConfig ?? '' })
    await writeFile(p.conf, config)
    const instance = launch(dir, imapPort, doveadmPort)
    t?.teardown(instance.stop)
    try {
      await pollUntil(async () => {
        if (!isRunning(instance.masterPid)) throw new Error('dovecot exited')
        return await canConnect(imapPort) && await canConnect(doveadmPort)
      }, START_TIMEOUT_MS, 5, `dovecot in ${dir} to listen`)
      return instance
    } catch (err) {
      await instance.stop()
      const why = `${await readFile(p.stderr, 'utf8').catch(() => '')}${await readFile(p.log, 'utf8').catch(() => '')}`
      if (attempt < START_ATTEMPTS && /Address already in use/.test(why)) continue
      throw new Error(`dovecot -F -c ${p.conf} did not start (${(err as Error).message}): ${why.trim().slice(-2000)}`)
    }
  }
}

/**
 * Stops `instance` and starts its Dovecot again on the same directory, config and ports (a
 * restart as an admin does one: clients see the same address); the new master's pid differs.
 */
export async function restartDovecot (t: Teardown | undefined, instance: DovecotInstance): Promise<DovecotInstance> {
  await instance.stop()
  const next = launch(instance.dir, instance.imapPort, instance.doveadmPort)
  t?.teardown(next.stop)
  await pollUntil(async () => {
    if (!isRunning(next.masterPid)) throw new Error('dovecot exited')
    return await canConnect(next.imapPort)
  }, START_TIMEOUT_MS, 5, `dovecot in ${instance.dir} to listen again`)
  return next
}

/**
 * Runs the master in the foreground as our child (so this process reaps it) in a session of its
 * own (so its pid is also the id of the process group of every process it starts).
 */
function launch (dir: string, imapPort: number, doveadmPort: number): DovecotInstance {
  const p = instancePaths(dir)
  const stderr = openSync(p.stderr, 'w')
  const child = spawn(DOVECOT_BIN as string, ['-F', '-c', p.conf], { detached: true, stdio: ['ignore', 'ignore', stderr] })
  closeSync(stderr)
  child.unref()
  const masterPid = child.pid
  if (masterPid === undefined) throw new Error(`could not run ${DOVECOT_BIN as string}`)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  liveGroups.add(masterPid)
  let stopping: Promise<void> | undefined
  return {
    dir,
    conf: p.conf,
    log: p.log,
    imapPort,
    doveadmPort,
    masterPid,
    imap: { host: '127.0.0.1', port: imapPort },
    doveadm: async args => await runProgram(DOVEADM_BIN as string, ['-c', p.conf, ...args], DOVEADM_TIMEOUT_MS),
    stop: async () => {
      stopping ??= stopMaster(masterPid, exited)
      await stopping
    }
  }
}

async function stopMaster (masterPid: number, exited: Promise<void>): Promise<void> {
  try { process.kill(masterPid, 'SIGTERM') } catch {}
  let timer: NodeJS.Timeout | undefined
  await Promise.race([exited, new Promise(resolve => { timer = setTimeout(resolve, STOP_TIMEOUT_MS) })])
  clearTimeout(timer)
  // Whatever of the group outlived the master (or the master itself past the deadline) is killed.
  killGroup(masterPid)
  await pollUntil(() => groupMembers(masterPid).length === 0, STOP_TIMEOUT_MS, 20, `dovecot process group ${masterPid} to exit`)
  liveGroups.delete(masterPid)
}

/**
 * A Dovecot that an earlier run left in this directory (its starter was killed with -9, so
 * nothing stopped it) holds the ports and the base_dir: Dovecot refuses to start beside it.
 * It is stopped only if its master.pid names a running process whose command line is
 * `dovecot ... -c <this directory's dovecot.conf>`, i.e. one the lab itself started here.
 */
async function stopLeftover (p: ReturnType<typeof instancePaths>): Promise<void> {
  let pid: number
  let cmdline: string
  try {
    pid = Number(readFileSync(join(p.run, 'master.pid'), 'utf8').trim())
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch { return }
  if (!Number.isSafeInteger(pid) || pid <= 1 || !isRunning(pid) || !cmdline.split('\0').includes(p.conf)) return
  liveGroups.add(pid)
  // Not our child: its exit is seen by polling, and stopMaster kills the group past the deadline.
  await stopMaster(pid, pollUntil(() => !isRunning(pid), STOP_TIMEOUT_MS, 20, `leftover dovecot ${pid} to exit`).catch(() => {}))
}

interface Vmail { uid: number, gid: number }
let vmailCache: Vmail | undefined

/** Creates `vmail` (uid 5000 when free) unless it exists; tolerates a parallel test creating it first. */
function ensureVmailUser (): Vmail {
  if (vmailCache !== undefined) return vmailCache
  const lookup = (): Vmail | undefined => {
    try {
      return { uid: Number(execFileSync('id', ['-u', 'vmail']).toString()), gid: Number(execFileSync('id', ['-g', 'vmail']).toString()) }
    } catch { return undefined }
  }
  let found = lookup()
  if (found === undefined) {
    let uidFree = true
    try { execFileSync('getent', ['passwd', String(PREFERRED_VMAIL_UID)]); uidFree = false } catch {}
    const uidArgs = uidFree ? ['-u', String(PREFERRED_VMAIL_UID)] : []
    try {
      execFileSync('useradd', ['-r', ...uidArgs, '-U', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', 'vmail'], { stdio: 'pipe' })
    } catch {}
    found = lookup()
    if (found === undefined) throw new Error('dovecot lab: could not create the vmail user (useradd failed)')
  }
  vmailCache = found
  return found
}

/**
 * The instance directory, with `mail/` owned by vmail. Mail processes run as vmail, so they must
 * be able to pass through every parent directory: temp directories are 0700, so the lab adds
 * search permission (o+x, not listing) to its own parent directories below the system temp dir.
 */
async function prepareDirectory (dir: string, vmail: Vmail): Promise<void> {
  const p = instancePaths(dir)
  for (const sub of [p.run, p.state, p.mail]) await mkdir(sub, { recursive: true })
  await chown(p.mail, vmail.uid, vmail.gid)
  await chmod(dir, 0o755)
  const top = resolve(tmpdir())
  for (let parent = dirname(dir); relative(top, parent) !== '' && !relative(top, parent).startsWith('..'); parent = dirname(parent)) {
    const mode = (await stat(parent)).mode
    if ((mode & 0o001) === 0) await chmod(parent, (mode & 0o7777) | 0o001)
  }
}
