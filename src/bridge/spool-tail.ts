import { watch, type FSWatcher } from 'node:fs'
import { open, rename, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { MAX_SPOOL_BYTES, MAX_SPOOL_LINE_BYTES, SPOOL_POLL_MS, SPOOL_ROTATE_GRACE_MS } from '../limits.js'
import { errnoCause, MarksyncError } from '../errors.js'

/** Where reading stopped: the file (by inode) and the byte after the last whole line handled. */
export interface SpoolCheckpoint { ino: number, offset: number }

export interface SpoolTailOptions {
  path: string
  checkpoint?: SpoolCheckpoint
  /** Called with every batch of whole lines, in order; the checkpoint advances once it resolves. */
  onLines: (lines: string[]) => Promise<void>
  onCheckpoint: (checkpoint: SpoolCheckpoint) => void
  /** The file was moved aside (or replaced): lines may have been missed in between. */
  onRotated: () => void
  onError: (err: unknown) => void
  maxBytes?: number
}

interface Reader { fh: FileHandle, ino: number, position: number, partial: Buffer, until?: number }

const CHUNK = 64 * 1024
const DENIED = new Set(['EACCES', 'EPERM', 'EROFS'])

/**
 * A permission error on the spool, said with its fix: the spool is written by the mail user and
 * read (and rotated) by the node's user, so a missing group ACL or write access shows up here.
 */
function accessError (err: unknown, path: string, rotating: boolean): unknown {
  const cause = errnoCause(err)?.code
  if (cause === undefined || !DENIED.has(cause)) return err
  const who = `uid ${process.getuid?.() ?? '?'}`
  return rotating
    ? new MarksyncError('SPOOL_NOT_ROTATED', `SPOOL_NOT_ROTATED: cannot move ${path} to ${path}.1 (${cause}, ${who}): the node needs write access to the spool directory (group rwx; ReadWritePaths= under systemd), see docs/dovecot.md "Troubleshooting"`, { cause: err })
    : new MarksyncError('SPOOL_UNREADABLE', `SPOOL_UNREADABLE: cannot read ${path} (${cause}, ${who}): the node's group needs read access to the spool, given to every new file by a default ACL on its directory (setfacl), see docs/dovecot.md "Troubleshooting"`, { cause: err })
}

/**
 * Tails the Lua driver's spool file. Writers open the file per transaction, so a
 * rotation (the file moved aside, by an admin or by this tailer past `maxBytes`)
 * is seen as a new inode at the path: the old file is read to its end for a grace
 * period (late writers), the new one from its start. Lines longer than
 * MAX_SPOOL_LINE_BYTES are dropped (counted in `overlong`).
 */
export class SpoolTail {
  readonly #o: SpoolTailOptions
  #current: Reader | undefined
  #old: Reader | undefined
  #watcher: FSWatcher | undefined
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = false
  overlong = 0
  linesRead = 0
  rotations = 0

  constructor (options: SpoolTailOptions) {
    this.#o = options
  }

  get checkpoint (): SpoolCheckpoint | undefined {
    return this.#current === undefined ? undefined : { ino: this.#current.ino, offset: this.#current.position }
  }

  start (): void {
    try {
      const name = basename(this.#o.path)
      this.#watcher = watch(dirname(this.#o.path), (_, file) => { if (file === null || file.startsWith(name)) this.poke() })
      this.#watcher.on('error', () => { this.#watcher?.close(); this.#watcher = undefined })
    } catch {
      // No directory yet, or no inotify: the poll below still finds the file.
    }
    this.#timer = setInterval(() => this.poke(), SPOOL_POLL_MS)
    this.poke()
  }

  /** Reads whatever is new; concurrent calls fold into one more pass. */
  poke (): void {
    if (this.#stopped) return
    if (this.#running !== undefined) {
      this.#again = true
      return
    }
    this.#running = (async () => {
      do {
        this.#again = false
        try {
          await this.#pass()
        } catch (err) {
          this.#o.onError(err)
        }
      } while (this.#again && !this.#stopped)
      this.#running = undefined
    })()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#watcher?.close()
    await this.#running
    await this.#current?.fh.close().catch(() => {})
    await this.#old?.fh.close().catch(() => {})
    this.#current = this.#old = undefined
  }

  async #pass (): Promise<void> {
    if (this.#old !== undefined) {
      await this.#drain(this.#old)
      if (Date.now() >= (this.#old.until ?? 0)) {
        await this.#old.fh.close()
        this.#old = undefined
      }
    }
    const info = await stat(this.#o.path).catch(err => {
      if (errnoCause(err)?.code === 'ENOENT') return undefined // not created yet, or moved aside
      throw accessError(err, this.#o.path, false)
    })
    if (info !== undefined && info.ino !== this.#current?.ino) await this.#switchTo(info.ino, info.size)
    if (this.#current === undefined) return
    await this.#drain(this.#current)
    const max = this.#o.maxBytes ?? MAX_SPOOL_BYTES
    if (info !== undefined && this.#current.position >= max && this.#current.position === info.size) {
      await rename(this.#o.path, `${this.#o.path}.1`).catch(err => { throw accessError(err, this.#o.path, true) })
      this.#again = true
    }
  }

  async #switchTo (ino: number, size: number): Promise<void> {
    const fh = await open(this.#o.path, 'r').catch(err => { throw accessError(err, this.#o.path, false) })
    const saved = this.#o.checkpoint
    // Resume at the checkpoint only in the same file, and only if it was not truncated meanwhile.
    const position = this.#current === undefined && saved?.ino === ino && saved.offset <= size ? saved.offset : 0
    if (this.#current !== undefined) {
      await this.#old?.fh.close()
      this.#old = { ...this.#current, until: Date.now() + SPOOL_ROTATE_GRACE_MS }
      this.rotations++
      this.#o.onRotated()
    }
    this.#current = { fh, ino, position, partial: Buffer.alloc(0) }
  }

  async #drain (reader: Reader): Promise<void> {
    const buffer = Buffer.alloc(CHUNK)
    for (;;) {
      const { bytesRead } = await reader.fh.read(buffer, 0, CHUNK, reader.position + reader.partial.length)
      if (bytesRead === 0) return
      const data = Buffer.concat([reader.partial, buffer.subarray(0, bytesRead)])
      const end = data.lastIndexOf(0x0a)
      if (end < 0) {
        reader.partial = data.length > MAX_SPOOL_LINE_BYTES ? this.#skip(reader, data) : data
        continue
      }
      const lines = data.subarray(0, end).toString('utf8').split('\n').filter(line => {
        if (Buffer.byteLength(line) <= MAX_SPOOL_LINE_BYTES) return line !== ''
        this.overlong++
        return false
      })
      reader.partial = data.subarray(end + 1)
      this.linesRead += lines.length
      if (lines.length > 0) await this.#o.onLines(lines)
      reader.position += end + 1
      if (reader === this.#current) this.#o.onCheckpoint({ ino: reader.ino, offset: reader.position })
    }
  }

  /** A line longer than the limit: drop what was read of it (the rest goes with the next newline). */
  #skip (reader: Reader, data: Buffer): Buffer {
    this.overlong++
    reader.position += data.length
    return Buffer.alloc(0)
  }
}
