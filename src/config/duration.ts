/**
 * Durations in the mesh file: a number of milliseconds, or a string with one unit
 * ("250ms", "10s", "5m", "2h", "7d"). One unit per string keeps the grammar tiny and
 * unambiguous; "1h30m" is written "90m".
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/

/** Milliseconds, or undefined when `value` is not a duration. */
export function parseDuration (value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  }
  if (typeof value !== 'string') return undefined
  const match = DURATION.exec(value.trim())
  if (match === null) return undefined
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number)
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** The shortest exact spelling of `ms` ("7d", "90s", "250ms"), for summaries. */
export function formatDuration (ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
