/**
 * What the store keeps about each peer for replication: the feed cursor (the last seq of
 * this node's feed the peer acknowledged) and the peer record (docs/protocol.md
 * "Incarnations"). Plain keyed reads and solo writes, apart from the write path of
 * changes. Input is checked before anything is queued.
 */
import { checkNodeId } from '../validate.js'
import type { StoreAccess } from './access.js'
import { decodeNumbers, encodeNumbers } from './codec.js'
import { cursorKey, peerRecordKey } from './keys.js'
import { NO_PEER_RECORD, decodePeerRecord, encodePeerRecord, type PeerRecord } from './peer-record.js'
import { checkSeq } from './reads.js'

export async function readCursor (access: StoreAccess, peer: string): Promise<number> {
  const value = await access.readDb().get(cursorKey(checkNodeId(peer, 'INVALID_PEER')))
  return value === undefined ? 0 : decodeNumbers(value, 1, 'cursor')[0]
}

export async function writeCursor (access: StoreAccess, peer: string, seq: number): Promise<void> {
  access.writable()
  const key = cursorKey(checkNodeId(peer, 'INVALID_PEER'))
  const value = encodeNumbers([checkSeq(seq, 'seq')])
  await access.solo(async db => { await db.put(key, value, access.sync()) })
}

export async function readPeerRecord (access: StoreAccess, peer: string): Promise<PeerRecord> {
  const value = await access.readDb().get(peerRecordKey(checkNodeId(peer, 'INVALID_PEER')))
  return value === undefined ? { ...NO_PEER_RECORD } : decodePeerRecord(value)
}

export async function writePeerRecord (access: StoreAccess, peer: string, record: PeerRecord): Promise<void> {
  access.writable()
  const key = peerRecordKey(checkNodeId(peer, 'INVALID_PEER'))
  const value = encodePeerRecord({ ...record, acked: checkSeq(record.acked, 'acked') })
  await access.solo(async db => { await db.put(key, value, access.sync()) })
}
