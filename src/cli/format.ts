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
