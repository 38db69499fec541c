/**
 * The environment the shipped systemd unit (examples/systemd/marksync.service) gives a
 * marksync process: its `Environment=` lines. Benchmark node processes run with it, so
 * the memory they report is what an admin's node uses (docs/operations.md "Memory").
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/daemon.js'

const UNIT = join(ROOT, 'examples', 'systemd', 'marksync.service')

/** `Environment=NAME=value` and `Environment="NAME=value with spaces"`, one assignment a line. */
export function unitEnvironment (unitText = readFileSync(UNIT, 'utf8')): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of unitText.split('\n')) {
    const m = /^Environment=(?:"([^"]*)"|(\S+))\s*$/.exec(line.trim())
    const assignment = m?.[1] ?? m?.[2]
    const eq = assignment?.indexOf('=') ?? -1
    if (assignment !== undefined && eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1)
  }
  return env
}
