/**
 * The clock check at start (docs/protocol.md "Clock check at start"): a node that has
 * peers holds its local writes after a start until the peers have given a verdict on its
 * clock (confirmed, or corrected by their offsets), at most CLOCK_CHECK_TIMEOUT_MS. A
 * node restarted with its clock far ahead would otherwise stamp its first changes
 * before anyone measured it, and those stamps beat later honest changes for as long as
 * their lead. The handshake carries a clock sample, so with reachable peers the verdict
 * comes with the first sessions, well before the timeout.
 */
import { CLOCK_CHECK_TIMEOUT_MS } from '../limits.js'
import type { Logger } from '../log.js'

export interface ClockGateOptions {
  /** False opens the gate at once: a node alone in its mesh has nobody to ask. */
  hasPeers: boolean
  timeoutMs?: number
  /** Called once when the gate opens: after a verdict, or on the timeout. */
  onOpen?: (how: { verdict: boolean, waitedMs: number }) => void
}

export class ClockGate {
  readonly #opened: Promise<void>
  #open!: () => void
  #isOpen = false
  #timer: NodeJS.Timeout | undefined
  readonly #since = Date.now()
  readonly #onOpen: ClockGateOptions['onOpen']

  constructor (options: ClockGateOptions) {
    this.#onOpen = options.onOpen
    this.#opened = new Promise(resolve => { this.#open = resolve })
    if (!options.hasPeers) {
      this.#release()
      return
    }
    this.#timer = setTimeout(() => this.#release({ verdict: false }), options.timeoutMs ?? CLOCK_CHECK_TIMEOUT_MS)
    this.#timer.unref()
  }

  get isOpen (): boolean { return this.#isOpen }

  /** The peers gave a verdict on the clock (the replicator's 'clock-checked'). */
  checked (): void {
    this.#release({ verdict: true })
  }

  /** Resolves when local writes may be stamped. */
  async wait (): Promise<void> {
    await this.#opened
  }

  /** Opens the gate; `how` (a verdict or the timeout) is reported, a plain open is not. */
  #release (how?: { verdict: boolean }): void {
    if (this.#isOpen) return
    this.#isOpen = true
    clearTimeout(this.#timer)
    this.#open()
    if (how !== undefined) this.#onOpen?.({ ...how, waitedMs: Date.now() - this.#since })
  }
}

/** The daemon's gate: logs how it opened ('clock-checked', or 'clock-unchecked' on the timeout). */
export function clockGateFor (hasPeers: boolean, log: Logger): ClockGate {
  return new ClockGate({
    hasPeers,
    onOpen: ({ verdict, waitedMs }) => {
      if (verdict) log.info({ event: 'clock-checked', waitedMs }, 'the peers gave their verdict on this node\'s clock: local writes go ahead')
      else log.warn({ event: 'clock-unchecked', waitedMs }, 'no peer gave a verdict on this node\'s clock in time: local writes go ahead on the wall clock')
    }
  })
}
