import type { ChaosResult } from './harness.js'
import { FAULT_KINDS } from './schedule.js'

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

/** The figures line every run ends with: one line, `key=value` pairs, easy to grep and compare. */
export function figuresLine (r: ChaosResult): string {
  const faults = FAULT_KINDS.map(kind => `${kind}=${r.faultsRun[kind]}`).join(' ')
  const total = FAULT_KINDS.reduce((sum, kind) => sum + r.faultsRun[kind], 0)
  const c = r.check
  return [
    `chaos ${r.passed ? 'PASS' : 'FAIL'} seed=${r.seed} nodes=${r.nodes}`,
    `faults=${total} ${faults}`,
    `acked=${r.acked}`,
    `lost=${c?.lost ?? 'n/a'} phantom=${c?.phantom ?? 'n/a'} divergent=${c?.divergent ?? 'n/a'}`,
    `converge_ms=${r.convergeMs ?? 'never'}`
  ].join(' ')
}

/** A readable summary of a run; the last line is `figuresLine`. */
export function formatSummary (r: ChaosResult): string[] {
  const lines: string[] = []
  lines.push(`chaos run, seed ${r.seed} (replay: --seed ${r.seed}), ${r.nodes} nodes, ${seconds(r.durationMs)} in all`)
  lines.push(`faults planned ${r.schedule.length}, run: ${FAULT_KINDS.map(k => `${k} ${r.faultsRun[k]}`).join(', ')}`)
  lines.push(`workload: ${r.acked} changes acknowledged, ${r.uncertain} sent without an answer, ${r.refused} requests refused (node down), HTTP errors ${JSON.stringify(r.httpErrors)}`)
  lines.push(`link proxies: ${r.proxies.accepted} connections forwarded, ${r.proxies.broken} broken by cuts, ${r.proxies.refused} refused while cut`)
  const m = r.monitor
  if (m !== undefined) {
    for (const s of m.skews) {
      lines.push(`skew: ${s.node} by ${s.offsetMs / 60_000} min, reported by [${s.reportedBy.join(',')}]` +
        `${s.detectedAfterMs === undefined ? '' : ` after ${s.detectedAfterMs} ms`}, its own HLC lead at most ${s.selfLeadMs} ms, ` +
        `its self-correction up to ${s.correctionMs} ms`)
    }
    const leads = [...m.maxLeadMs].map(([id, ms]) => `${id} ${ms}`).join(', ')
    lines.push(`greatest HLC lead over real time outside skew windows (ms): ${leads === '' ? 'n/a' : leads}; state transfers seen: ${m.stateTransfers()}` +
      [...new Set(r.schedule.filter(f => f.kind === 'longdown').map(f => f.node ?? '?'))]
        .map(node => `, to ${node} (down past retention) ${m.stateTransfers(node)}`).join(''))
  }
  const c = r.check
  if (c !== undefined) {
    lines.push(`check: ${c.pairs} (user, message) pairs, ${c.wonByUncertain} won by a change sent without an answer, ` +
      `lost ${c.lost}, phantom ${c.phantom}, divergent ${c.divergent}, unread mismatches ${c.unreadMismatch}`)
    for (const d of c.details.slice(0, 20)) lines.push(`  ${d}`)
  }
  for (const b of r.badAcks) lines.push(`bad ack: ${b}`)
  lines.push(`converged ${r.convergeMs === null ? 'never' : `${r.convergeMs} ms`} after everything was healed`)
  if (r.failures.length > 0) {
    lines.push(`FAILED (seed ${r.seed}):`)
    for (const f of r.failures) lines.push(`  ${f}`)
    lines.push(`kept the nodes' logs (<node>.log), data dirs (data/<node>) and mesh file in ${r.dir}`)
  }
  lines.push(figuresLine(r))
  return lines
}
