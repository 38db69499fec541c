/**
 * Synchronisation for tests: wait for a condition with a deadline, never a fixed sleep.
 */
export interface WaitOptions {
  /** Give up after this many ms (default 10 s). */
  timeoutMs?: number
  /** Poll interval in ms (default 10). */
  intervalMs?: number
  /** Said in the error when the deadline passes. */
  what?: string
}

export async function waitFor<T> (
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {}
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const intervalMs = options.intervalMs ?? 10
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== null && value !== false) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}${why}`)
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** Resolves with the event's first argument, or rejects after the deadline. */
export async function once<T = unknown> (
  emitter: { once (event: string, fn: (arg: T) => void): unknown, off (event: string, fn: (arg: T) => void): unknown },
  event: string,
  timeoutMs = 10_000
): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, onEvent)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`))
    }, timeoutMs)
    function onEvent (arg: T): void {
      clearTimeout(timer)
      resolve(arg)
    }
    emitter.once(event, onEvent)
  })
}
