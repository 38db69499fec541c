/** Opening the data directory at start, with a one-line reason when the operating system refuses it. */
import { errnoCause, isMarksyncError, MarksyncError } from '../errors.js'
import type { MeshNode } from '../config/mesh.js'
import type { WallClock } from '../hlc.js'
import type { Store, StoreOptions } from '../store/index.js'

const ERRNO_HINTS: Record<string, string> = {
  EACCES: 'permission denied: the user running marksync cannot create or write it',
  EPERM: 'operation not permitted for the user running marksync',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'the path exists and is not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device'
}

/**
 * Opens the store; an operating-system failure (the directory cannot be created, read or
 * written) becomes `DATA_DIR_UNUSABLE` with the cause and the path, which no restart fixes.
 */
export async function openStore (store: Store, dataDir: string): Promise<void> {
  try {
    await store.open()
  } catch (err) {
    const cause = errnoCause(err)
    if (isMarksyncError(err) || cause === undefined) throw err
    const code = cause.code as string
    const hint = ERRNO_HINTS[code] ?? cause.message
    throw new MarksyncError('DATA_DIR_UNUSABLE', `data directory ${dataDir} cannot be opened: ${hint} (${code}${cause.path !== undefined ? ` on ${cause.path}` : ''})`, { cause: err })
  }
}

/** The store's options from the node's settings (docs/operations.md "Settings"). */
export function storeOptions (node: MeshNode, wallClock?: WallClock): StoreOptions {
  const s = node.settings
  const options: StoreOptions = {
    location: node.dataDir,
    nodeId: node.id,
    durability: s.durability,
    retentionMs: s.retentionMs,
    maxClockSkewMs: s.maxClockSkewMs,
    leveldb: { cacheSize: s.leveldbCacheSize, writeBufferSize: s.leveldbWriteBufferSize, maxOpenFiles: s.leveldbMaxOpenFiles }
  }
  if (wallClock !== undefined) options.wallClock = wallClock
  return options
}
