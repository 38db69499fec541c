/**
 * Helpers of the recovery tests: a raw peer that speaks for a configured (but not
 * started) node of a mesh to a real `marksync` process, and winner counts through the API.
 */
import { readFileSync } from 'node:fs'
import { encodeFrame, type Frame } from '../../src/protocol/index.js'
import { packTimestamp } from '../../src/hlc.js'
import type { Change } from '../../src/types.js'
import { apiCall, type TestMesh } from '../helpers/daemon.js'
import type { Teardown } from '../helpers/teardown.js'
import { waitFor } from '../helpers/wait.js'
import { RawPeer } from '../replication/raw-peer.js'

/** A loaded machine can take long to start a node; that is not what these tests check. */
export const SLOW_START = { readyTimeoutMs: 60_000 }

/** The HMAC key of the mesh: the secret file's bytes without the trailing newline. */
export function meshSecret (mesh: TestMesh): Buffer {
  return Buffer.from(readFileSync(mesh.secretFile, 'utf8').replace(/[\r\n]+$/, ''), 'utf8')
}

/** A raw peer connected to node `to` of the mesh, authenticated as node `as`. */
export async function rawPeerAs (t: Teardown, mesh: TestMesh, as: string, to: string): Promise<RawPeer> {
  const peer = await RawPeer.connect(mesh.nodes[to].peerPort)
  t.teardown(() => peer.close())
  await peer.handshake(as, to, { secret: meshSecret(mesh), cluster: mesh.cluster })
  return peer
}

/** A change stamped `leadMs` ahead of this machine's clock. */
export function change (user: string, message: string, origin: string, leadMs = 0): Change {
  return { user, message, status: 'read', origin, ts: packTimestamp(Date.now() + leadMs) }
}

export function batchFrame (prev: number, seq: number, entries: Change[], round = 0): Frame {
  return { type: 'batch', prev, seq, round, entries }
}

/** A batch whose one entry has the message id `bytes`, which need not be valid UTF-8. */
export function batchWithRawMessage (bytes: Buffer, origin: string): Buffer {
  const placeholder = 'Q'.repeat(bytes.length)
  const frame = encodeFrame(batchFrame(0, 1, [change('alice', placeholder, origin)]))
  const header = Buffer.from([0xa0 | bytes.length, ...Buffer.from(placeholder)])
  const at = frame.indexOf(header)
  if (at < 0 || bytes.length > 31) throw new TypeError('placeholder not found')
  bytes.copy(frame, at + 1)
  return frame
}

/** The node's winner for (user, message), or undefined. */
export async function winner (api: string, user: string, message: string): Promise<Record<string, any> | undefined> {
  const r = await apiCall(api, 'GET', `/v1/users/${encodeURIComponent(user)}/messages/${encodeURIComponent(message)}`)
  return r.status === 200 ? r.body : undefined
}

export async function unreadCount (api: string, user: string): Promise<number> {
  return (await apiCall(api, 'GET', `/v1/users/${encodeURIComponent(user)}/unread/count`)).body.count
}

/** Waits until `user` has `count` unread messages on the node. */
export async function waitUnread (api: string, user: string, count: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => await unreadCount(api, user) === count, { timeoutMs, what: `${count} unread for ${user} at ${api}` })
}

/** Marks `count` messages of `user` unread through the API, `prefix-0`, `prefix-1`... */
export async function markMany (api: string, user: string, prefix: string, count: number, status = 'unread'): Promise<void> {
  for (let from = 0; from < count; from += 1000) {
    const changes = []
    for (let i = from; i < Math.min(count, from + 1000); i++) changes.push({ user, message: `${prefix}-${i}`, status })
    const r = await apiCall(api, 'POST', '/v1/changes', { body: { changes }, timeoutMs: 30_000 })
    if (r.status !== 200) throw new Error(`marking failed: ${r.text}`)
  }
}
