/**
 * One fuzz run: the pure frame decoder, the frame handler over real sockets and the
 * HTTP API, each bounded by cases and time, with process-wide crash counting (any
 * uncaught exception or unhandled rejection while the run is on is a crash). Shared
 * by the long runner (run.ts, `npm run fuzz`) and the short tap test (fuzz.test.ts).
 */
import { runApiFuzz, type ApiFuzzResult } from './api-target.js'
import { runPeerFuzz, type PeerFuzzResult } from './peer-target.js'
import { runPure, type PureResult } from './pure.js'

export interface FuzzPlan {
  seed: number
  /** Budgets per part: cases and seconds (whichever runs out first). */
  pure: { cases: number, seconds: number }
  peer: { cases: number, seconds: number, concurrency?: number }
  api: { cases: number, seconds: number, concurrency?: number }
  /** A temp dir for the LevelDB stores. */
  dir: string
}

export interface FuzzReport {
  seed: number
  startedAt: string
  totals: { cases: number, crashes: number, hangs: number, unexpectedWrites: number, seconds: number, casesPerSecond: number }
  /** Crashes seen by the process handlers (the parts count their own too). */
  processCrashes: string[]
  pure: PureResult
  peer: PeerFuzzResult
  api: ApiFuzzResult
  /** The run passes: 0 crashes, 0 hangs, 0 unexpected writes, nodes alive and replicating. */
  ok: boolean
}

function perSecond (cases: number, ms: number): number {
  return ms > 0 ? Math.round(cases / ms * 1000) : 0
}

export async function runFuzz (plan: FuzzPlan, progress: (line: string) => void = () => {}): Promise<FuzzReport> {
  const startedAt = new Date().toISOString()
  const processCrashes: string[] = []
  const onCrash = (err: unknown): void => { processCrashes.push(String((err as Error)?.stack ?? err).slice(0, 2000)) }
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  try {
    const pure = runPure(plan.seed, { maxCases: plan.pure.cases, deadline: Date.now() + plan.pure.seconds * 1000 })
    progress(`pure decoder: ${pure.cases} cases, ${perSecond(pure.cases, pure.ms)}/s, ${pure.accepted} accepted, crashes ${pure.crashes}, hangs ${pure.hangs} (process stalls ${pure.stalls}), round-trip failures ${pure.roundtripFailures}`)
    const peer = await runPeerFuzz(plan.seed + 1, { maxCases: plan.peer.cases, deadline: Date.now() + plan.peer.seconds * 1000, dir: plan.dir, concurrency: plan.peer.concurrency })
    progress(`peer sessions: ${peer.cases} cases, ${perSecond(peer.cases, peer.ms)}/s, ${peer.authenticated} authenticated, hangs ${peer.hangs}, unexpected writes ${peer.unexpectedWrites}, replicates after: ${peer.replicatesAfter}`)
    const api = await runApiFuzz(plan.seed + 2, { maxCases: plan.api.cases, deadline: Date.now() + plan.api.seconds * 1000, dir: plan.dir, concurrency: plan.api.concurrency })
    progress(`HTTP API: ${api.cases} cases, ${perSecond(api.cases, api.ms)}/s, hangs ${api.hangs}, 5xx ${api.internalErrors}, auth bypasses ${api.authBypasses}, unexpected writes ${api.unexpectedWrites}, alive after: ${api.aliveAfter}`)
    const cases = pure.cases + peer.cases + api.cases
    const ms = pure.ms + peer.ms + api.ms
    const crashes = pure.crashes + pure.roundtripFailures + processCrashes.length + api.internalErrors + api.authBypasses + peer.errors.filter(e => !e.startsWith('unexpected')).length
    const hangs = pure.hangs + peer.hangs + api.hangs
    const unexpectedWrites = peer.unexpectedWrites + api.unexpectedWrites
    return {
      seed: plan.seed,
      startedAt,
      totals: { cases, crashes, hangs, unexpectedWrites, seconds: Math.round(ms / 1000), casesPerSecond: perSecond(cases, ms) },
      processCrashes,
      pure,
      peer,
      api,
      ok: crashes === 0 && hangs === 0 && unexpectedWrites === 0 && peer.replicatesAfter && api.aliveAfter
    }
  } finally {
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
  }
}
