/**
 * Process helpers of the Dovecot lab (./dovecot-lab.ts): what /proc says of a pid and its
 * process group, a program run to its end, a condition polled with a
 * deadline. Linux only, like the lab (Dovecot's master runs in a process group of its own).
 */
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { connect } from 'node:net'

export interface RunResult { code: number | null, stdout: string, stderr: string }

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, ...]. */
function procStat (pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

function livePids (): number[] {
  return readdirSync('/proc').filter(name => /^\d+$/.test(name)).map(Number).filter(isRunning)
}

/** Running (not exited, not a zombie nobody reaped). */
export function isRunning (pid: number): boolean {
  const fields = procStat(pid)
  return fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X'
}

/** Live processes of a process group. */
export function groupMembers (pgid: number): number[] {
  return livePids().filter(pid => Number(procStat(pid)?.[2]) === pgid)
}

export function killGroup (pgid: number): void {
  if (groupMembers(pgid).length === 0) return
  try { process.kill(-pgid, 'SIGKILL') } catch {}
}

/** Live children (recursively) of a pid: the processes a Dovecot master started. */
export function descendants (pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const child of livePids()) {
    const ppid = Number(procStat(child)?.[1])
    parents.set(ppid, [...(parents.get(ppid) ?? []), child])
  }
  const found: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift() as number) ?? []) { found.push(child); queue.push(child) }
  }
  return found
}

export async function canConnect (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

/** Polls `check` every `intervalMs` until it is true; throws past `timeoutMs` or when it throws. */
export async function pollUntil (check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** Runs a program to its end (or kills it past the deadline) and collects its output. */
export async function runProgram (file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', e => { clearTimeout(timer); reject(e) })
    child.once('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
  })
}
