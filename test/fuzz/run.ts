/**
 * `npm run fuzz` (node dist/test/fuzz/run.js --long): the long fuzz run, at least
 * 1,000,000 cases, bounded in time. Prints cases per second and totals, writes the
 * report as JSON to test/fuzz/results/, exits 1 unless the run passed.
 *
 *   --long           the long budgets (default: a short run like the tap test)
 *   --seed N         replay a run (default: random, printed)
 *   --minutes M      overall time bound of the long run (default 15)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomSeed } from '../helpers/prng.js'
import { ROOT } from '../helpers/daemon.js'
import { runFuzz, type FuzzPlan } from './harness.js'

function arg (name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

async function main (): Promise<number> {
  const long = process.argv.includes('--long')
  const seed = arg('--seed') !== undefined ? Number(arg('--seed')) : randomSeed()
  const minutes = Number(arg('--minutes') ?? 15)
  const dir = await mkdtemp(join(tmpdir(), 'marksync-fuzz-'))
  // Long: most cases go to the pure decoder (fast); sockets and HTTP get a fixed share of the time.
  const plan: FuzzPlan = long
    ? {
        seed,
        dir,
        pure: { cases: 1_000_000, seconds: minutes * 60 * 0.6 },
        peer: { cases: 30_000, seconds: minutes * 60 * 0.2, concurrency: 4 },
        api: { cases: 60_000, seconds: minutes * 60 * 0.2, concurrency: 8 }
      }
    : { seed, dir, pure: { cases: 20_000, seconds: 10 }, peer: { cases: 300, seconds: 10 }, api: { cases: 1_000, seconds: 10 } }
  console.log(`marksync fuzz: seed ${seed}, ${long ? `long run (at most ${minutes} min)` : 'short run'}`)
  try {
    const report = await runFuzz(plan, line => console.log('  ' + line))
    const t = report.totals
    console.log(`total: ${t.cases} cases in ${t.seconds} s (${t.casesPerSecond} cases/s): ${t.crashes} crashes, ${t.hangs} hangs, ${t.unexpectedWrites} unexpected writes; ${report.ok ? 'PASS' : 'FAIL'}`)
    for (const f of report.pure.findings.slice(0, 5)) console.log(`  finding: ${f.kind} at case ${f.index} (seed ${f.seed}): ${f.detail}`)
    for (const e of [...report.processCrashes, ...report.peer.errors, ...report.api.errors].slice(0, 10)) console.log(`  ${e.split('\n')[0] ?? ''}`)
    const out = join(ROOT, 'test', 'fuzz', 'results')
    await mkdir(out, { recursive: true })
    const file = join(out, `fuzz-${report.startedAt.replace(/[:.]/g, '-')}-${seed}.json`)
    await writeFile(file, JSON.stringify(report, null, 2) + '\n')
    console.log(`report: ${file}`)
    return report.ok ? 0 : 1
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

main().then(code => { process.exitCode = code }, err => {
  console.error(err)
  process.exitCode = 2
})
