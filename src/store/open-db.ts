/**
 * Opens the node's LevelDB and checks that it belongs to this node and to a
 * store format this code can read.
 */
import { randomBytes } from 'node:crypto'
import { Level } from 'level'
import { MarksyncError } from '../errors.js'
import { decodeNumbers } from './codec.js'
import { metaKey } from './keys.js'
import { DEFAULT_LEVELDB_TUNING, type LevelDbTuning } from './db-tuning.js'

/** Version of the store layout (families and key encoding); bumped on incompatible change. */
export const STORE_FORMAT_VERSION = 1

export const META = {
  format: metaKey('format'),
  node: metaKey('node'),
  /**
   * This incarnation of the node: random, made when the store is created (a wiped data
   * directory is a new incarnation). Peers never trust cursors made with another one.
   */
  incarnation: metaKey('incarnation'),
  /** Last seq and last HLC timestamp, rewritten by every batch. */
  state: metaKey('state')
} as const

export interface OpenedDb {
  db: Level<Buffer, Buffer>
  lastSeq: number
  lastHlc: number
  incarnation: string
}

/** Bytes of randomness in an incarnation id (shown as hex). */
const INCARNATION_BYTES = 16

export function newIncarnation (): string {
  return randomBytes(INCARNATION_BYTES).toString('hex')
}

function isLockError (err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true
  }
  return false
}

/** Opens the database with `tuning` (checked by the caller: checkLevelDbTuning). */
export async function openDb (location: string, nodeId: string, tuning: LevelDbTuning = DEFAULT_LEVELDB_TUNING): Promise<OpenedDb> {
  const { cacheSize, writeBufferSize, maxOpenFiles } = tuning
  const db = new Level<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer', cacheSize, writeBufferSize, maxOpenFiles })
  try {
    await db.open()
  } catch (err) {
    if (isLockError(err)) {
      throw new MarksyncError('DATA_DIR_LOCKED', `data directory ${location} is in use by another marksync process (or another store in this one)`, { cause: err })
    }
    throw err
  }
  try {
    return { db, ...await checkMeta(db, location, nodeId) }
  } catch (err) {
    await db.close()
    throw err
  }
}

type MetaState = Omit<OpenedDb, 'db'>

async function checkMeta (db: Level<Buffer, Buffer>, location: string, nodeId: string): Promise<MetaState> {
  const [format, node, state, incarnation] = await db.getMany([META.format, META.node, META.state, META.incarnation])
  if (format === undefined) {
    // A fresh store: claim it for this node, as a new incarnation of it.
    const fresh = newIncarnation()
    await db.batch([
      { type: 'put', key: META.format, value: Buffer.of(STORE_FORMAT_VERSION) },
      { type: 'put', key: META.node, value: Buffer.from(nodeId, 'utf8') },
      { type: 'put', key: META.incarnation, value: Buffer.from(fresh, 'latin1') }
    ], { sync: true })
    return { lastSeq: 0, lastHlc: 0, incarnation: fresh }
  }
  if (format[0] > STORE_FORMAT_VERSION) {
    throw new MarksyncError('STORE_VERSION', `store at ${location} has format ${format[0]}; this marksync reads up to ${STORE_FORMAT_VERSION}`)
  }
  const stored = node?.toString('utf8')
  if (stored !== nodeId) {
    throw new MarksyncError('NODE_ID_MISMATCH', `store at ${location} belongs to node ${String(stored)}, not ${nodeId}`)
  }
  const [lastSeq, lastHlc] = state === undefined ? [0, 0] : decodeNumbers(state, 2, 'state')
  return { lastSeq, lastHlc, incarnation: incarnation?.toString('latin1') ?? await claimIncarnation(db) }
}

/** A store made before incarnations existed gets one at its first open by this version. */
async function claimIncarnation (db: Level<Buffer, Buffer>): Promise<string> {
  const fresh = newIncarnation()
  await db.put(META.incarnation, Buffer.from(fresh, 'latin1'), { sync: true })
  return fresh
}

/**
 * LevelDB's own estimate of its memory, in bytes: the block cache's content and the
 * memtables (not the mapped tables, which count as file pages of the process).
 */
export function leveldbMemoryBytes (db: Level<Buffer, Buffer>): number {
  return Number((db as unknown as { getProperty: (name: string) => string }).getProperty('leveldb.approximate-memory-usage'))
}
