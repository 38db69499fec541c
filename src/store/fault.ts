/**
 * Store faults: a write LevelDB could not make because of the disk (full, I/O errors).
 * LevelDB keeps such an error and fails every later write until the database is
 * reopened, so the store marks itself failing, refuses writes at once with a specific
 * code, keeps serving reads, and reopens itself once the cause looks gone
 * (docs/storage.md "Store faults").
 */
import { statfs } from 'node:fs/promises'
import { MarksyncError } from '../errors.js'

export type StoreFaultCode = 'DISK_FULL' | 'STORE_UNAVAILABLE'

/** Why the store cannot write, as `status` and `health` report it. */
export interface StoreFault {
  /** `DISK_FULL` (no space left on the data directory's filesystem) or `STORE_UNAVAILABLE` (any other I/O failure). */
  code: StoreFaultCode
  /** LevelDB's message for the first failure. */
  reason: string
  /** When the store started failing, ms since the epoch. */
  since: number
  /** Reopen attempts so far. */
  attempts: number
}

const NO_SPACE = /no space left|ENOSPC|disk full|quota exceeded|EDQUOT/i

function chain (err: unknown): Array<{ code?: unknown, message?: unknown }> {
  const out: Array<{ code?: unknown, message?: unknown }> = []
  for (let e: unknown = err; typeof e === 'object' && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) {
    out.push(e as { code?: unknown, message?: unknown })
  }
  return out
}

/**
 * The fault an error means, or undefined if it is not a storage failure (a refused
 * input, a closed store: those are answers, not faults).
 */
export function faultOf (err: unknown, now: number): StoreFault | undefined {
  if (err instanceof MarksyncError) return undefined
  const errors = chain(err)
  const storage = errors.some(e => typeof e.code === 'string' && (e.code === 'LEVEL_IO_ERROR' || e.code === 'LEVEL_CORRUPTION' || e.code.startsWith('E')))
  if (!storage) return undefined
  const text = errors.map(e => `${String(e.code)} ${String(e.message)}`).join(' ')
  const reason = String(errors[0].message)
  return { code: NO_SPACE.test(text) ? 'DISK_FULL' : 'STORE_UNAVAILABLE', reason, since: now, attempts: 0 }
}

/** The error a write gets while the store is failing. */
export function faultError (fault: StoreFault, cause?: unknown): MarksyncError {
  const what = fault.code === 'DISK_FULL' ? 'the data directory\'s disk is full' : 'the store cannot write'
  return new MarksyncError(fault.code, `${what} since ${new Date(fault.since).toISOString()}: ${fault.reason}`, { cause })
}

/** Bytes free for this process on the filesystem of `location` (Infinity if unknown). */
export async function freeBytes (location: string): Promise<number> {
  try {
    const s = await statfs(location)
    return s.bavail * s.bsize
  } catch {
    return Infinity
  }
}

export interface FaultWatchInit {
  location: string
  now: () => number
  /** Closes and reopens the database (through the write queue); resolves true if it worked. */
  reopen: () => Promise<boolean>
  onFault: (fault: StoreFault) => void
  onRecovered: (recovered: { code: StoreFaultCode, since: number, attempts: number }) => void
  intervalMs: number
  minFreeBytes: number
}

/**
 * Keeps the store's fault: set by the first storage failure, cleared by a successful
 * reopen, tried every `intervalMs` (for DISK_FULL only once `minFreeBytes` are free).
 */
export class FaultWatch {
  fault: StoreFault | null = null
  readonly #init: FaultWatchInit
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor (init: FaultWatchInit) {
    this.#init = init
  }

  /** The error a caller gets for `err`: the fault's if the disk caused it (or one is in force), else `err`. */
  failed (err: unknown): unknown {
    if (this.fault !== null) return faultError(this.fault, err)
    const fault = faultOf(err, this.#init.now())
    if (fault === undefined) return err
    this.fault = fault
    this.#init.onFault({ ...fault })
    this.#schedule()
    return faultError(fault, err)
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule (): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => { void this.#recover() }, this.#init.intervalMs)
  }

  async #recover (): Promise<void> {
    const fault = this.fault
    if (fault === null || this.#stopped) return
    if (fault.code === 'DISK_FULL' && await freeBytes(this.#init.location) < this.#init.minFreeBytes) return this.#schedule()
    if (this.#stopped) return
    fault.attempts++
    let ok = false
    try {
      ok = await this.#init.reopen()
    } catch (err) {
      fault.reason = (err as Error).message
    }
    if (!ok) return this.#schedule()
    this.fault = null
    this.#init.onRecovered({ code: fault.code, since: fault.since, attempts: fault.attempts })
  }
}
