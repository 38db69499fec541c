import { parseDuration } from '../../config/duration.js'
import { isMarksyncError } from '../../errors.js'
import { span } from '../format.js'
import type { Io } from '../io.js'
import { clientFor, UsageError } from '../target.js'
import type { ClientArgs } from './client-commands.js'
import type { StatusBody } from './status.js'

/**
 * `marksync status --check`: one line and an exit code for a monitoring system, in the
 * Nagios plugin convention (0 OK, 1 WARNING, 2 CRITICAL; performance data after "|").
 * The same rules as examples/prometheus/alerts.yml, thresholds documented in
 * docs/operations.md "Monitoring".
 */
export const CHECK_OK = 0
export const CHECK_WARNING = 1
export const CHECK_CRITICAL = 2

export interface CheckThresholds {
  /** Largest peer lag in time (ms) at which the check warns / is critical. */
  warnLagMs: number
  critLagMs: number
  /** Disconnected peers at which the check warns / is critical (critical: 0 means every peer). */
  warnDisconnected: number
  critDisconnected: number
  /** Skewed peers at which the check warns / is critical (0: never). This node's own clock being off warns. */
  warnSkewed: number
  critSkewed: number
}

export const CHECK_DEFAULTS: CheckThresholds = {
  warnLagMs: 60_000,
  critLagMs: 600_000,
  warnDisconnected: 1,
  critDisconnected: 0,
  warnSkewed: 1,
  critSkewed: 0
}

const NAMES = ['OK', 'WARNING', 'CRITICAL']

export function evaluateStatus (s: StatusBody, t: CheckThresholds): { code: number, line: string } {
  const problems: Array<[number, string]> = []
  const down = s.peers.filter(p => !p.connected)
  const critDown = t.critDisconnected === 0 ? s.peers.length : t.critDisconnected
  if (down.length > 0) {
    const level = down.length >= critDown ? CHECK_CRITICAL : down.length >= t.warnDisconnected ? CHECK_WARNING : CHECK_OK
    problems.push([level, `${down.length} peer${down.length === 1 ? '' : 's'} down (${down.map(p => `${p.id}: ${p.lastError?.code ?? 'not connected'}`).join(', ')})`])
  }
  const worst = s.peers.reduce<{ id: string, lagMs: number } | undefined>((w, p) => p.lagMs > (w?.lagMs ?? -1) ? { id: p.id, lagMs: p.lagMs } : w, undefined)
  if (worst !== undefined && worst.lagMs >= t.warnLagMs) {
    problems.push([worst.lagMs >= t.critLagMs ? CHECK_CRITICAL : CHECK_WARNING, `lag ${span(worst.lagMs)} (${worst.id})`])
  }
  const skewed = s.peers.filter(p => p.skewed)
  if (skewed.length > 0 && skewed.length >= t.warnSkewed) {
    const level = t.critSkewed > 0 && skewed.length >= t.critSkewed ? CHECK_CRITICAL : CHECK_WARNING
    problems.push([level, `${skewed.length} peer${skewed.length === 1 ? '' : 's'} skewed (${skewed.map(p => p.id).join(', ')})`])
  }
  if (s.clockCorrectionMs !== 0) problems.push([CHECK_WARNING, `this node's clock is off by ${span(Math.abs(s.clockCorrectionMs))} (its peers agree)`])
  const code = Math.max(CHECK_OK, ...problems.map(([level]) => level))
  const shown = problems.filter(([level]) => level > CHECK_OK).map(([, text]) => text)
  const summary = shown.length > 0 ? shown.join('; ') : `${s.peers.length - down.length}/${s.peers.length} peers connected, lag ${span(worst?.lagMs ?? 0)}`
  const perf = `peers=${s.peers.length} connected=${s.peers.length - down.length} lag_seconds=${((worst?.lagMs ?? 0) / 1000).toFixed(1)} skewed=${skewed.length} clock_correction_ms=${s.clockCorrectionMs}`
  return { code, line: `MARKSYNC ${NAMES[code] ?? 'UNKNOWN'} - node ${s.node}: ${summary} | ${perf}` }
}

export interface CheckArgs extends ClientArgs {
  warnLag?: string
  critLag?: string
  warnDisconnected?: number
  critDisconnected?: number
  warnSkewed?: number
  critSkewed?: number
}

export function thresholdsFrom (args: CheckArgs): CheckThresholds {
  const duration = (value: string | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback
    const ms = parseDuration(/^\d+$/.test(value) ? Number(value) : value)
    if (ms === undefined) throw new UsageError(`--${name} must be a duration such as 90s or 10m, got "${value}"`)
    return ms
  }
  const count = (value: number | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} must be a whole number of peers, got "${String(value)}"`)
    return value
  }
  return {
    warnLagMs: duration(args.warnLag, 'warn-lag', CHECK_DEFAULTS.warnLagMs),
    critLagMs: duration(args.critLag, 'crit-lag', CHECK_DEFAULTS.critLagMs),
    warnDisconnected: count(args.warnDisconnected, 'warn-disconnected', CHECK_DEFAULTS.warnDisconnected),
    critDisconnected: count(args.critDisconnected, 'crit-disconnected', CHECK_DEFAULTS.critDisconnected),
    warnSkewed: count(args.warnSkewed, 'warn-skewed', CHECK_DEFAULTS.warnSkewed),
    critSkewed: count(args.critSkewed, 'crit-skewed', CHECK_DEFAULTS.critSkewed)
  }
}

/** The check: a node that does not answer (or refuses the token) is CRITICAL too. */
export async function statusCheck (args: CheckArgs, io: Io): Promise<number> {
  const thresholds = thresholdsFrom(args)
  const client = clientFor(args)
  let s: StatusBody
  try {
    s = await client.request<StatusBody>('GET', '/v1/status')
  } catch (err) {
    if (!isMarksyncError(err)) throw err
    io.out(`MARKSYNC CRITICAL - ${err.message} (${err.code})`)
    return CHECK_CRITICAL
  }
  const { code, line } = evaluateStatus(s, thresholds)
  io.out(line)
  return code
}
