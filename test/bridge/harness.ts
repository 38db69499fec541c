/**
 * Two or three marksync nodes, each with its own Dovecot (from the fixture) and its bridge,
 * configured with the files an admin installs: examples/dovecot/90-marksync.conf (with its two
 * path prefixes pointed at the test's directory) and examples/dovecot/marksync-push.lua.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ImapFlow } from 'imapflow'
import type { DovecotInstance } from '../helpers/dovecot.js'
import { startLabHost } from '../../src/bridge/dovecot-lab-host.js'
import { apiCall, startDaemon, writeMesh, type DaemonProcess, type TestMesh } from '../helpers/daemon.js'
import { waitFor } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'

const MASTER_PASSWORD = 'bridge-master-pw'

export interface Host {
  id: string
  dovecot: DovecotInstance
  spool: string
  daemon: DaemonProcess
  api: string
}

/** The `bridge` object of a node's `GET /v1/status` (docs/dovecot.md, "Status and metrics"). */
export interface BridgeStatus { state: string, behind: number, cursor: number, counters: Record<string, number> }

/** The node's status: its feed's oldest seq, and its bridge. */
export async function nodeStatus (host: Host): Promise<{ oldestSeq: number, bridge: BridgeStatus }> {
  return (await apiCall(host.api, 'GET', '/v1/status')).body
}

export async function bridgeStatus (host: Host): Promise<BridgeStatus> {
  return (await nodeStatus(host)).bridge
}

/** A Dovecot with the shipped snippet and Lua script installed under `dir`. */
export interface HostOptions {
  users?: Record<string, string>
  mailFormat?: 'maildir' | 'sdbox'
}

export async function dovecotWithBridgeConfig (t: Teardown, dir: string, options: HostOptions = {}): Promise<{ dovecot: DovecotInstance, spool: string }> {
  return await startLabHost(t, dir, { ...options, masterPassword: MASTER_PASSWORD })
}

export interface BridgeMesh {
  mesh: TestMesh
  hosts: Record<string, Host>
  restart (id: string): Promise<Host>
}

/** Starts the Dovecots, writes the mesh file with a `dovecot` section per node, starts the nodes. */
export interface BridgeMeshOptions extends HostOptions {
  /** Runs after the Dovecots started and before the marksync nodes do (e.g. to fill mailboxes). */
  prepare?: (dovecots: Record<string, { dovecot: DovecotInstance, spool: string }>) => Promise<void>
  /** The bridges' `catchUpInterval` (default '1m': short, so that tests see periodic catch-ups). */
  catchUpInterval?: string
  /** Mesh settings besides the harness's own (e.g. a short `retention`). */
  settings?: Record<string, string>
}

export async function startBridgeMesh (t: Teardown, dir: string, ids: string[], links?: unknown[], options: BridgeMeshOptions = {}): Promise<BridgeMesh> {
  const mesh = await writeMesh(join(dir, 'mesh'), { nodes: ids, settings: { heartbeat: '250ms', durability: 'relaxed', ...options.settings }, ...(links !== undefined ? { links } : {}) })
  await writeFile(join(mesh.dir, 'dovecot-master.secret'), MASTER_PASSWORD + '\n', { mode: 0o600 })
  const dovecots: Record<string, { dovecot: DovecotInstance, spool: string }> = {}
  for (const id of ids) dovecots[id] = await dovecotWithBridgeConfig(t, join(dir, `host-${id}`), options)
  await options.prepare?.(dovecots)
  const json = mesh.json as { nodes: Array<Record<string, unknown>> }
  for (const node of json.nodes) {
    const own = dovecots[node.id as string] as { dovecot: DovecotInstance, spool: string }
    node.dovecot = { imap: `127.0.0.1:${own.dovecot.imapPort}`, masterUser: 'marksync', masterPasswordFile: 'dovecot-master.secret', spool: own.spool, catchUpInterval: options.catchUpInterval ?? '1m' }
  }
  await mesh.rewrite(json)
  const hosts: Record<string, Host> = {}
  const launch = async (id: string): Promise<Host> => {
    const own = dovecots[id] as { dovecot: DovecotInstance, spool: string }
    const daemon = await startDaemon(t, mesh, id, { readyTimeoutMs: 60_000 })
    // A clean stop first (teardowns run last-registered first), so the node writes its
    // coverage; startDaemon's own teardown SIGKILLs only what this leaves running.
    t.teardown(async () => { if (daemon.running) await daemon.stop() })
    const host = { id, ...own, daemon, api: mesh.nodes[id]?.api as string }
    hosts[id] = host
    return host
  }
  for (const id of ids) await launch(id)
  return { mesh, hosts, restart: launch }
}

export function userClient (dovecot: DovecotInstance, user: string, pass = 'secret'): ImapFlow {
  return new ImapFlow({ ...dovecot.imap, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true })
}

/** Connects a user's client; logged out at teardown. */
export async function connectUser (t: Teardown, dovecot: DovecotInstance, user: string, pass = 'secret'): Promise<ImapFlow> {
  const client = userClient(dovecot, user, pass)
  await client.connect()
  t.teardown(async () => { try { await client.logout() } catch { client.close() } })
  return client
}

export function rfc822 (messageId: string): string {
  return ['From: Carol <carol@example.test>', 'To: Alice <alice@example.test>', `Subject: ${messageId}`, `Message-ID: ${messageId}`, '', 'body', ''].join('\r\n')
}

/** Delivers messages the way an MTA would: each host gets its own copy (own UIDs). */
export async function deliver (client: ImapFlow, ids: string[], mailbox = 'INBOX'): Promise<void> {
  for (const id of ids) await client.append(mailbox, rfc822(id), [])
}

/** UIDs of the copies of `messageId` in `mailbox`. */
export async function uidsOf (client: ImapFlow, messageId: string, mailbox = 'INBOX'): Promise<number[]> {
  const lock = await client.getMailboxLock(mailbox)
  try {
    await client.noop()
    const found = await client.search({ header: { 'message-id': messageId } }, { uid: true })
    return Array.isArray(found) ? found : []
  } finally {
    lock.release()
  }
}

/** Status of every copy of `messageId` in `mailbox`, as the flags say. */
export async function statusesOf (client: ImapFlow, messageId: string, mailbox = 'INBOX'): Promise<string[]> {
  const uids = await uidsOf(client, messageId, mailbox)
  if (uids.length === 0) return []
  const lock = await client.getMailboxLock(mailbox)
  try {
    const messages = await client.fetchAll(uids.join(','), { uid: true, flags: true }, { uid: true })
    return messages.map(m => m.flags?.has('\\Deleted') === true ? 'deleted' : m.flags?.has('\\Seen') === true ? 'read' : 'unread')
  } finally {
    lock.release()
  }
}

/** Sets a status the way a mail client does (STORE on the user's own session). */
export async function setStatus (client: ImapFlow, messageId: string, status: 'read' | 'unread' | 'deleted', mailbox = 'INBOX'): Promise<void> {
  const uids = (await uidsOf(client, messageId, mailbox)).join(',')
  const lock = await client.getMailboxLock(mailbox)
  try {
    if (status === 'read') await client.messageFlagsAdd(uids, ['\\Seen'], { uid: true })
    if (status === 'unread') await client.messageFlagsRemove(uids, ['\\Seen'], { uid: true })
    if (status === 'deleted') await client.messageFlagsAdd(uids, ['\\Deleted'], { uid: true })
  } finally {
    lock.release()
  }
}

export async function waitForStatus (client: ImapFlow, messageId: string, status: string, what: string, mailbox = 'INBOX'): Promise<void> {
  await waitFor(async () => {
    const statuses = await statusesOf(client, messageId, mailbox)
    return statuses.length > 0 && statuses.every(s => s === status)
  }, { timeoutMs: 60_000, intervalMs: 20, what })
}

export async function winnerOn (api: string, user: string, messageId: string): Promise<string | undefined> {
  const reply = await apiCall(api, 'GET', `/v1/users/${encodeURIComponent(user)}/messages/${encodeURIComponent(messageId)}`)
  return reply.status === 200 ? reply.body.status : undefined
}

/** Every winner of `user` on node `api`. */
export async function winnersOf (api: string, user: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const reply = await apiCall(api, 'GET', '/v1/winners?limit=1000')
  for (const w of reply.body.winners as Array<{ user: string, message: string, status: string }>) if (w.user === user) out.set(w.message, w.status)
  return out
}

/** Entries per origin in a user's log on one node. */
export async function originsOf (api: string, user: string): Promise<Record<string, number>> {
  const reply = await apiCall(api, 'GET', `/v1/users/${encodeURIComponent(user)}/log?limit=1000`)
  const counts: Record<string, number> = {}
  for (const e of reply.body.entries as Array<{ origin: string }>) counts[e.origin] = (counts[e.origin] ?? 0) + 1
  return counts
}

/**
 * Waits until every node has the same winners for `ids` and every copy in every Dovecot shows
 * its winner; returns the winners. A message a host does not have is only checked in marksync.
 */
export async function waitConverged (hosts: Host[], clients: Record<string, ImapFlow>, user: string, ids: string[]): Promise<Map<string, string>> {
  let last = ''
  try {
    return await waitFor(async () => {
      const first = await winnersOf((hosts[0] as Host).api, user)
      for (const host of hosts) {
        const winners = await winnersOf(host.api, user)
        for (const id of ids) {
          const statuses = await statusesOf(clients[host.id] as ImapFlow, id)
          last = `${host.id} ${id}: winner ${winners.get(id) ?? '-'} (first node: ${first.get(id) ?? '-'}), copies ${statuses.join(',')}`
          if (winners.get(id) !== first.get(id) || statuses.some(s => s !== winners.get(id))) return false
        }
      }
      return first
    }, { timeoutMs: 60_000, intervalMs: 50, what: 'every copy to show the winner on every host' })
  } catch (err) {
    throw new Error(`${(err as Error).message}; last difference: ${last}`)
  }
}
