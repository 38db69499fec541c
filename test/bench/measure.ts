/**
 * Small helpers for the benchmarks: time a run while sampling the resident
 * set size, print rows as a fixed-width table, and end a run with its JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

/** How often the RSS is sampled during a run, in ms. */
const RSS_SAMPLE_MS = 20

export interface Measured {
  ms: number
  /** Highest RSS seen during the run, in MiB. */
  peakRssMiB: number
}

export async function measure (run: () => Promise<void>): Promise<Measured> {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()) }, RSS_SAMPLE_MS)
  const start = performance.now()
  try {
    await run()
  } finally {
    clearInterval(timer)
  }
  const ms = performance.now() - start
  peak = Math.max(peak, process.memoryUsage.rss())
  return { ms, peakRssMiB: Math.round(peak / 1024 / 1024) }
}

export function printTable (rows: readonly object[]): void {
  if (rows.length === 0) return
  const columns = Object.keys(rows[0])
  const cell = (row: object, column: string): string => String((row as Record<string, unknown>)[column])
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => cell(r, c).length)))
  const line = (cells: string[]): string => '| ' + cells.map((text, i) => text.padEnd(widths[i])).join(' | ') + ' |'
  console.log(line(columns))
  console.log('|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|')
  for (const row of rows) console.log(line(columns.map(c => cell(row, c))))
}

export interface GoalLine {
  goal: string
  measured: string
  target: string
  met: boolean | null
}

/** The goal table every benchmark ends with: what was measured against what was asked. */
export function printGoals (lines: readonly GoalLine[]): void {
  console.log('\nGoals')
  printTable(lines.map(l => ({ goal: l.goal, measured: l.measured, goal_value: l.target, met: l.met === null ? 'n/a' : l.met ? 'yes' : 'NO' })))
}

/**
 * Ends a benchmark run: the load average at its start (`results.loadAverage`) and now, and
 * `results` written to test/bench/results/<name>.json.
 */
export async function writeResults (name: string, results: Record<string, unknown>): Promise<void> {
  results.loadAverageAtEnd = loadavg()
  const at = (load: unknown): string => (load as number[]).map(n => n.toFixed(2)).join(' ')
  console.log(`load average at the start ${at(results.loadAverage)}, at the end ${at(results.loadAverageAtEnd)}`)
  const out = fileURLToPath(new URL('../../../test/bench/results/', import.meta.url))
  await mkdir(out, { recursive: true })
  await writeFile(join(out, `${name}.json`), JSON.stringify(results, null, 2) + '\n')
  console.log(`results written to test/bench/results/${name}.json`)
}
