import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { tmpdir } from 'node:os'
import { ImapFlow } from 'imapflow'
import { DOVECOT_SKIP } from '../../bridge/dovecot-lab.js'
import { LAB_MASTER_USER, startLabHost, type LabHost } from '../../bridge/dovecot-lab-host.js'

/**
 * The Dovecot half of `marksync demo --dovecot`: a lab Dovecot per node (src/bridge/dovecot-lab.ts,
 * plain IMAP on a free loopback port, directory DIR/dovecot-<node>) set up with the shipped
 * examples/dovecot/ files, the same sample messages delivered to every host (each its own copy, as
 * an MTA delivers them), and DIR/mesh-dovecot.json: the demo's mesh file with each node's
 * `dovecot` section, which the demo's nodes then run with. Mail and passwords stay in DIR.
 */
export const DEMO_USERS = ['alice', 'bob', 'carol'] as const
/** Sample messages in each user's INBOX on each host, delivered when the INBOX is empty. */
export const DEMO_MESSAGES = 5
const USERS_SECRET = 'dovecot-users.secret'
const MASTER_SECRET = 'dovecot-master.secret'
export const DEMO_DOVECOT_MESH = 'mesh-dovecot.json'

export interface DemoDovecots {
  /** The mesh file with the `dovecot` sections. */
  meshFile: string
  hosts: Map<string, LabHost>
  password: string
  /** Stops every Dovecot started (by its master's pid); idempotent. */
  stop: () => Promise<void>
}

/** Why the Dovecot demo cannot run here, or undefined. */
export function dovecotDemoUnavailable (dir: string): string | undefined {
  if (DOVECOT_SKIP !== false) return DOVECOT_SKIP
  const blocked = unsearchableParent(dir)
  if (blocked === undefined) return undefined
  return `Dovecot's mail processes (user vmail) cannot pass through ${blocked} to reach ${dir}: ` +
    `give the demo a directory they can reach (--dir "$(mktemp -d)/demo-data") or allow it (chmod o+x ${blocked})`
}

/** The first of `dir` and its parents that others may not search, outside the temp dir (the lab opens those). */
function unsearchableParent (dir: string): string | undefined {
  const temp = tmpdir()
  for (let at = dir; ; at = dirname(at)) {
    const below = relative(temp, at)
    const insideTemp = below !== '' && !below.startsWith('..')
    if (!insideTemp && existsSync(at) && (statSync(at).mode & 0o001) === 0) return at
    if (dirname(at) === at) return undefined
  }
}

function secret (file: string): string {
  if (!existsSync(file)) writeFileSync(file, randomBytes(9).toString('base64url') + '\n', { mode: 0o600 })
  return readFileSync(file, 'utf8').trim()
}

/** Starts a Dovecot per node of `meshFile`, fills empty INBOXes, writes mesh-dovecot.json. */
export async function startDemoDovecots (dir: string, meshFile: string): Promise<DemoDovecots> {
  const password = secret(join(dir, USERS_SECRET))
  const masterPassword = secret(join(dir, MASTER_SECRET))
  const stops: Array<() => unknown> = []
  const hosts = new Map<string, LabHost>()
  const stop = async (): Promise<void> => { await Promise.all(stops.splice(0).map(async fn => await fn())) }
  const json = JSON.parse(readFileSync(meshFile, 'utf8')) as { nodes: Array<Record<string, unknown>> }
  try {
    const users = Object.fromEntries(DEMO_USERS.map(u => [u, password]))
    for (const node of json.nodes) {
      const host = await startLabHost({ teardown: fn => stops.push(fn) }, join(dir, `dovecot-${String(node.id)}`), { users, masterPassword })
      hosts.set(String(node.id), host)
      for (const user of DEMO_USERS) await deliverSamples(host, user, password)
      node.dovecot = { imap: `127.0.0.1:${host.dovecot.imapPort}`, masterUser: LAB_MASTER_USER, masterPasswordFile: MASTER_SECRET, spool: host.spool, users: [...DEMO_USERS], catchUpInterval: '1m' }
    }
  } catch (err) {
    await stop()
    throw err
  }
  const out = join(dir, DEMO_DOVECOT_MESH)
  writeFileSync(out, JSON.stringify({ ...json, '//': `Written by marksync demo --dovecot from ${relative(dir, meshFile)} at every start: edit that file instead.` }, null, 2) + '\n')
  return { meshFile: out, hosts, password, stop }
}

/** The same sample messages on every host, appended as the user when the INBOX is empty. */
async function deliverSamples (host: LabHost, user: string, password: string): Promise<void> {
  const client = new ImapFlow({ ...host.dovecot.imap, secure: false, auth: { user, pass: password }, logger: false, disableAutoIdle: true })
  await client.connect()
  try {
    const status = await client.status('INBOX', { messages: true })
    if (status !== false && (status.messages ?? 0) > 0) return
    for (let n = 1; n <= DEMO_MESSAGES; n++) await client.append('INBOX', sampleMessage(user, n), [])
  } finally {
    await client.logout().catch(() => client.close())
  }
}

function sampleMessage (user: string, n: number): string {
  return [`From: marksync demo <demo@example.org>`, `To: ${user}@example.org`, `Subject: Demo message ${n}`,
    `Message-ID: <demo-${n}@marksync.example>`, '', `Mark me read on one host and watch the others follow.`, ''].join('\r\n')
}

/** As the user would type it: relative to here when it is below here. */
export function shownPath (file: string): string {
  const below = relative(process.cwd(), file)
  return below === '' || below.startsWith('..') ? file : below
}

/** How to log in to each node's Dovecot, for the demo's banner. */
export function dovecotLogins (lab: DemoDovecots, dir: string): string[] {
  const lines = ['', `Dovecot per node (plain IMAP on loopback, no TLS; ${DEMO_MESSAGES} sample messages in each INBOX):`]
  for (const [id, host] of lab.hosts) {
    lines.push(`  node ${id}: IMAP host 127.0.0.1 port ${host.dovecot.imapPort}  users ${DEMO_USERS.join(', ')}  password ${lab.password}` +
      `  (dovecot pid ${host.dovecot.masterPid}, log ${shownPath(host.dovecot.log)})`)
  }
  const [first] = lab.hosts.values()
  lines.push(
    `Log in with any IMAP client as alice on one node, read a message, and see it read on the others; or by hand:`,
    `  telnet 127.0.0.1 ${first?.dovecot.imapPort ?? 0}    then:  a LOGIN alice ${lab.password}   b SELECT INBOX   c STORE 1 +FLAGS (\\Seen)`,
    `Passwords are in ${shownPath(join(dir, USERS_SECRET))}.`
  )
  return lines
}
