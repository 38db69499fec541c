/**
 * `npm run bench:dsync`: the dsync anchor (see ./dsync.ts and docs/benchmarks.md) for sdbox and
 * maildir, users in turn and in parallel. Prints a table and writes test/bench/results/dsync.json.
 * Options: --users N (default 10), --messages M per user (default 10,000), --formats sdbox,maildir,
 * --backup (make B with `doveadm backup` instead of a file copy: minutes more, and it measures
 * dsync's initial full copy), --quick (2 users × 2,000 messages, to try it; not the recorded numbers).
 * Without Dovecot (or root) it says how to install it and exits 0.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { DOVECOT_SKIP } from '../helpers/dovecot.js'
import { prepareDsyncPair, type MailFormat, type ReplicaCopy } from './dsync.js'
import { printTable } from './measure.js'

/** Bench users are named u01..u99. */
const MAX_USERS = 99
const MAX_MESSAGES_PER_USER = 1_000_000

function positive (text: string, name: string, max: number): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`--${name} must be an integer from 1 to ${max}, got ${text}`)
  return value
}

function options (): { users: number, messages: number, formats: MailFormat[], copy: ReplicaCopy, quick: boolean } {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '10' },
      messages: { type: 'string', default: '10000' },
      formats: { type: 'string', default: 'sdbox,maildir' },
      backup: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false }
    }
  })
  const formats = (values.formats ?? '').split(',').map(f => f.trim())
  for (const format of formats) if (format !== 'sdbox' && format !== 'maildir') throw new Error(`--formats takes sdbox and/or maildir, got ${format}`)
  const quick = values.quick === true
  return {
    users: quick ? 2 : positive(values.users ?? '', 'users', MAX_USERS),
    messages: quick ? 2_000 : positive(values.messages ?? '', 'messages', MAX_MESSAGES_PER_USER),
    formats: formats as MailFormat[],
    copy: values.backup === true ? 'backup' : 'files',
    quick
  }
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

async function writeResults (results: Record<string, unknown>): Promise<string> {
  const out = fileURLToPath(new URL('../../../test/bench/results/', import.meta.url))
  await mkdir(out, { recursive: true })
  const file = join(out, 'dsync.json')
  await writeFile(file, JSON.stringify({ ...results, loadAverageAtEnd: loadavg() }, null, 2) + '\n')
  return file
}

async function main (): Promise<void> {
  const opts = options()
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), ...opts, cpus: cpus().length, loadAverage: loadavg() }
  if (DOVECOT_SKIP !== false) {
    console.log(`dsync anchor not measured: ${DOVECOT_SKIP}`)
    console.log('Install it with `apt-get install dovecot-imapd` (as root) and run `npm run bench:dsync` again.')
    console.log('marksync\'s own figures do not need Dovecot: `npm run bench:replication`, `npm run bench:ingest`.')
    console.log(`wrote ${await writeResults({ ...results, skipped: DOVECOT_SKIP })}`)
    return
  }
  results.dovecot = execFileSync('dovecot', ['--version']).toString().trim()
  const rows: Array<Record<string, string | number>> = []
  const setupRows: Array<Record<string, string | number>> = []
  const runs: unknown[] = []
  for (const format of opts.formats) {
    const dir = await mkdtemp(join(tmpdir(), 'marksync-dsync-'))
    try {
      console.error(`${format}: setting up ${opts.users} users × ${opts.messages} messages (B made by ${opts.copy === 'backup' ? 'doveadm backup' : 'a file copy'})...`)
      const pair = await prepareDsyncPair(dir, opts.users, opts.messages, format, opts.copy)
      try {
        const sequential = await pair.measure(false)
        const parallel = await pair.measure(true)
        const oneChange = await pair.measureOneChange()
        runs.push({ format, setupSeconds: pair.setupSeconds, sequential, parallel, oneChangeSeconds: oneChange })
        for (const [mode, r] of [['users in turn', sequential], ['users in parallel', parallel]] as const) {
          rows.push({ format, mode, users: opts.users, 'msgs/user': opts.messages, changes: r.changes, seconds: round(r.seconds, 3), 'changes/s': Math.round(r.perSecond) })
        }
        rows.push({ format, mode: '1 change, 1 user', users: 1, 'msgs/user': opts.messages, changes: 1, seconds: round(oneChange, 3), 'changes/s': '' })
        const setup = pair.setupSeconds
        setupRows.push({ format, 'fill A s': round(setup.fill, 1), 'B made by': opts.copy === 'backup' ? 'doveadm backup' : 'file copy', 'B made in s': round(setup.replica, 1), 'msgs/s': Math.round(opts.users * opts.messages / setup.replica), 'first syncs s': round(setup.firstSync, 1) })
      } finally {
        await pair.stop()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  results.runs = runs
  printTable(rows)
  console.log('')
  printTable(setupRows)
  console.log(`wrote ${await writeResults(results)}`)
}

main().catch(err => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
