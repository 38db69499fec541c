import { readFileSync } from 'node:fs'
import type { WallClock } from '../hlc.js'
import { TEST_CLOCK_REREAD_MS } from '../limits.js'

/**
 * Test-only: when `MARKSYNC_TEST_CLOCK_OFFSET_FILE` names a file, the node's wall
 * clock is `Date.now() + offset`, offset being the integer (ms) in that file (a
 * missing or empty file means 0). The chaos suite skews one node's clock this way
 * without touching the machine's clock. Never set it in production.
 */
export const TEST_CLOCK_ENV = 'MARKSYNC_TEST_CLOCK_OFFSET_FILE'

export function readOffset (file: string): number {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch {
    return 0
  }
  const offset = Number(text)
  return text !== '' && Number.isSafeInteger(offset) ? offset : 0
}

/** The wall clock for this process: Date.now, or the test clock if the variable is set. */
export function wallClockFromEnv (env: Record<string, string | undefined>): { wallClock: WallClock, testClockFile?: string } {
  const file = env[TEST_CLOCK_ENV]
  if (file === undefined || file === '') return { wallClock: Date.now }
  let offset = readOffset(file)
  let readAt = Date.now()
  // Re-read lazily, at most every TEST_CLOCK_REREAD_MS: no timer to clear, and a changed
  // offset shows within that time on the next reading.
  const wallClock: WallClock = () => {
    const now = Date.now()
    if (now - readAt >= TEST_CLOCK_REREAD_MS || now < readAt) {
      offset = readOffset(file)
      readAt = now
    }
    return now + offset
  }
  return { wallClock, testClockFile: file }
}
