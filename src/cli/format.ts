/** Human output of the CLI: aligned tables and readable times. */

export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export function isoTime (ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  return new Date(ms).toISOString()
}

/** "3s ago", "2m ago", "-" for never. */
export function ago (ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return '-'
  const d = Math.max(0, now - ms)
  if (d < 1_000) return `${d}ms ago`
  if (d < 60_000) return `${Math.round(d / 1_000)}s ago`
  if (d < 3_600_000) return `${Math.round(d / 60_000)}m ago`
  return `${Math.round(d / 3_600_000)}h ago`
}

export function signedMs (ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-'
  return `${ms > 0 ? '+' : ''}${Math.round(ms)}ms`
}

/** A span of time as people say it: "850ms", "42s", "2m 5s", "3h 2m", "-" for unknown. */
export function span (ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  const d = Math.max(0, Math.round(ms))
  if (d < 1_000) return d === 0 ? '0s' : `${d}ms`
  const s = Math.round(d / 1_000)
  if (s < 60) return `${s}s`
  if (s < 3_600) return `${Math.floor(s / 60)}m ${s % 60}s`
  return `${Math.floor(s / 3_600)}h ${Math.floor((s % 3_600) / 60)}m`
}
