/** Spawns a store fixture (plain .mjs over the compiled dist/) and reads its output lines. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '../helpers/teardown.js'

export interface Child {
  proc: ChildProcess
  lines: string[]
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export function spawnFixture (t: Teardown, name: string, args: string[]): Child {
  const path = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
  const proc = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let partial = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  })
  let stderr = ''
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    proc.on('exit', (code, signal) => {
      if (stderr !== '') process.stderr.write(`[${name}] ${stderr}`)
      resolve({ code, signal })
    })
  })
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  return { proc, lines, exited }
}
