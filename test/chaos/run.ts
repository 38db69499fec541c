/**
 * `npm run chaos` (long schedule) and `node dist/test/chaos/run.js [--seed N] [--runs K]`
 * (short schedule, K seeds in a row); `--no-skew` leaves clock skews out (for diagnosis). Prints every run's summary, ending in its figures line,
 * and writes it to test/chaos/results/. Exit code 0 only if every run passed.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT } from '../helpers/daemon.js'
import { runChaos } from './harness.js'
import { LONG, SHORT } from './presets.js'
import { randomSeed } from '../helpers/prng.js'

/** Most runs one invocation may do. */
const MAX_RUNS = 100

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      long: { type: 'boolean', default: false },
      seed: { type: 'string' },
      runs: { type: 'string', default: '1' },
      nodes: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      // Diagnosis only: leaves the clock skews out, to tell their failures from others'.
      'no-skew': { type: 'boolean', default: false }
    }
  })
  const runs = Math.min(MAX_RUNS, Math.max(1, Number.parseInt(values.runs ?? '1', 10) || 1))
  const preset = values.long === true ? LONG : SHORT
  const first = values.seed === undefined ? randomSeed() : Number.parseInt(values.seed, 10)
  if (!Number.isSafeInteger(first)) throw new Error(`bad --seed ${values.seed ?? ''}`)
  const nodes = values.nodes === undefined ? preset.nodes : Number.parseInt(values.nodes, 10)

  const controller = new AbortController()
  let interrupts = 0
  process.on('SIGINT', () => {
    interrupts++
    console.error(interrupts === 1 ? 'chaos: interrupted, cleaning up (again to exit at once)' : 'chaos: exiting now')
    if (interrupts > 1) process.exit(130)
    controller.abort()
  })
  process.on('SIGTERM', () => { controller.abort() })

  const resultsDir = join(ROOT, 'test', 'chaos', 'results')
  await mkdir(resultsDir, { recursive: true })
  const figures: string[] = []
  let failed = 0
  for (let i = 0; i < runs && !controller.signal.aborted; i++) {
    const seed = first + i
    const result = await runChaos({
      ...preset,
      nodes,
      seed,
      ...(values['no-skew'] === true ? { skews: 0 } : {}),
      snapshot: true,
      signal: controller.signal,
      log: values.quiet === true ? undefined : line => { console.log(line) }
    })
    const text = result.summary.join('\n')
    console.log(text)
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    await writeFile(join(resultsDir, `${stamp}-${values.long === true ? 'long' : 'short'}-seed-${seed}.txt`), text + '\n')
    figures.push(result.summary[result.summary.length - 1] as string)
    if (!result.passed) failed++
  }
  if (runs > 1) {
    console.log(`\n${runs - failed} of ${figures.length} runs passed:`)
    for (const line of figures) console.log(line)
  }
  return failed === 0 && !controller.signal.aborted ? 0 : 1
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
