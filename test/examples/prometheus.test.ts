import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'

/**
 * examples/prometheus: the scrape config and the alert rules load in promtool, and the
 * rules fire as their unit tests (alerts.test.yml) say, with the thresholds of
 * `marksync status --check` (docs/operations.md "Monitoring"). Needs promtool (Debian
 * package prometheus); skipped, saying so, without it.
 */
const EXAMPLES = join(ROOT, 'examples', 'prometheus')
const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0

function promtool (t: Test, args: string[], cwd: string): void {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' })
  t.equal(r.status, 0, `promtool ${args.join(' ')}\n${r.stdout}${r.stderr}`)
}

t.test('promtool accepts the scrape config and the rules, and the rules pass their unit tests', { skip: hasPromtool ? false : 'promtool not installed (Debian package prometheus)' }, async tt => {
  const dir = await tempDir(tt)
  for (const file of ['alerts.yml', 'alerts.test.yml']) await copyFile(join(EXAMPLES, file), join(dir, file))
  // promtool checks that the token file exists: point the config at one.
  await writeFile(join(dir, 'marksync.token'), 'token\n')
  const config = (await readFile(join(EXAMPLES, 'prometheus.yml'), 'utf8')).replace('/etc/prometheus/marksync.token', join(dir, 'marksync.token'))
  await writeFile(join(dir, 'prometheus.yml'), config)
  promtool(tt, ['check', 'config', 'prometheus.yml'], dir)
  promtool(tt, ['check', 'rules', 'alerts.yml'], dir)
  promtool(tt, ['test', 'rules', 'alerts.test.yml'], dir)
})

t.test('the scrape config in operations.md is the example file', async tt => {
  const doc = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')
  const block = /## Monitoring[^]*?```yaml\n([^]*?)```/.exec(doc)?.[1]
  const file = await readFile(join(EXAMPLES, 'prometheus.yml'), 'utf8')
  tt.equal(block, file.split('\n').filter(l => !l.startsWith('#')).join('\n'))
})
