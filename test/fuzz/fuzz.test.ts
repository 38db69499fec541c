/**
 * The short fuzz run of `npm test` (the long one is `npm run fuzz`): the same harness,
 * a fixed seed so a failure replays, and the bar of issue 5: 0 crashes, 0 hangs,
 * 0 unexpected writes, and both targets alive and replicating afterwards.
 */
import t from 'tap'
import { tempDir } from '../helpers/tmp.js'
import { runFuzz } from './harness.js'

const SEED = Number(process.env.MARKSYNC_FUZZ_SEED ?? 20_261_127)

t.test('short fuzz run: decoder, frame handler over sockets, HTTP API', async t => {
  const dir = await tempDir(t, 'marksync-fuzz-')
  const report = await runFuzz({
    seed: SEED,
    dir,
    pure: { cases: 30_000, seconds: 8 },
    peer: { cases: 250, seconds: 8 },
    api: { cases: 800, seconds: 8 }
  }, line => t.comment(line))
  t.ok(report.pure.cases >= 5_000, `decoder cases tried (${report.pure.cases})`)
  t.ok(report.peer.cases >= 50, `socket cases tried (${report.peer.cases})`)
  t.ok(report.api.cases >= 100, `API cases tried (${report.api.cases})`)
  t.ok(report.pure.accepted > 0 && Object.keys(report.pure.refused).length >= 2, 'the decoder both accepted and refused frames (the generator reaches past the first byte)')
  t.ok(report.peer.authenticated > 0, 'some sessions fuzzed the established state')
  t.equal(report.totals.crashes, 0, `no crashes ${JSON.stringify([...report.processCrashes, ...report.pure.findings.map(f => f.detail), ...report.api.errors].slice(0, 3))}`)
  t.equal(report.totals.hangs, 0, 'no hangs')
  t.equal(report.totals.unexpectedWrites, 0, `no unexpected writes ${JSON.stringify(report.peer.errors.slice(0, 3))}`)
  t.ok(report.peer.replicatesAfter, 'the fuzzed node still replicates with its honest peer, both ways')
  t.ok(report.api.aliveAfter, 'the API still acknowledges and serves an honest write')
  t.equal(report.api.authBypasses, 0, 'no route but /v1/health answered without the token')
  t.ok(report.ok)
})
