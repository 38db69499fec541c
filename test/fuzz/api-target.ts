/**
 * The HTTP API fuzzer: a real ApiServer (token set) over a real Store on port 0, hit
 * with random methods, paths, queries, headers and bodies, some as raw bytes on a TCP
 * socket (malformed HTTP). Every answer must be a 2xx/4xx JSON error within
 * CASE_DEADLINE_MS (a 5xx is counted as an internal error, no answer as a hang), no
 * route but /v1/health may answer 2xx without the token, and the store must hold
 * exactly what was acknowledged: its seq equals the number of entries returned by 200
 * answers to POST /v1/changes, and every winner is one of them.
 */
import { request, validateHeaderValue } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { ApiServer } from '../../src/api/server.js'
import { openNode } from '../helpers/node.js'
import { MAX_API_CHANGES } from '../../src/limits.js'
import type { LogEntry } from '../../src/types.js'
import { Prng } from '../helpers/prng.js'
import { randomString } from './frame-cases.js'

export const CASE_DEADLINE_MS = 5_000
const TOKEN = 'fuzz-api-token-0123456789'

export interface ApiFuzzResult {
  cases: number
  statuses: Record<string, number>
  hangs: number
  internalErrors: number
  /** 2xx without the token on a route that needs it. */
  authBypasses: number
  unexpectedWrites: number
  acknowledgedEntries: number
  aliveAfter: boolean
  ms: number
  errors: string[]
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']
/** Served without the token: the health probe and the status page (which holds no data). */
const PUBLIC_PATHS = new Set(['/v1/health', '/'])

/** The path as the server resolves it ('/..' is '/'). */
function normalized (path: string): string {
  try { return new URL(path, 'http://x').pathname } catch { return path }
}

const ROUTES = ['/v1/health', '/v1/changes', '/v1/users/:u/unread', '/v1/users/:u/unread/count', '/v1/users/:u/messages/:m', '/v1/users/:u/log', '/v1/winners', '/v1/status', '/v1/purge', '/metrics']

/** Percent-encodes every UTF-8 byte (encodeURIComponent throws on lone surrogates). */
function pct (s: string): string {
  return [...Buffer.from(s, 'utf8')].map(b => '%' + b.toString(16).padStart(2, '0')).join('')
}

function segment (r: Prng): string {
  switch (r.int(0, 9)) {
    case 0: return ''
    case 1: return '%'
    case 2: return '%E0%A4%A'
    case 3: return '..'
    case 4: return pct(randomString(r, r.int(1, 600)))
    case 5: return '%00%0a'
    case 6: return 'a'.repeat(r.pick([256, 257, 512, 513, 8_000]))
    case 7: return r.pick(['%2F%2e%2e%2F', '%ED%A0%80', '%C0%AF', '%FF'])
    default: return pct(randomString(r, r.int(1, 12)))
  }
}

function path (r: Prng): string {
  let p = r.pick(ROUTES).replace(/:[um]/g, () => segment(r))
  if (r.chance(0.1)) p = '/' + Array.from({ length: r.int(0, 6) }, () => segment(r)).join('/')
  if (r.chance(0.3)) {
    const keys = ['limit', 'after', 'afterUser', 'afterMessage', 'x']
    p += '?' + Array.from({ length: r.int(1, 4) }, () => `${r.pick(keys)}=${r.pick(['', '0', '-1', '1', '1000', '1001', '1e3', 'NaN', '99999999999999999999', segment(r)])}`).join('&')
  }
  return p
}

function change (r: Prng): unknown {
  const c: Record<string, unknown> = { user: `u${r.int(0, 20)}`, message: `m${r.int(0, 30)}`, status: r.pick(['read', 'unread', 'deleted']) }
  if (r.chance(0.4)) {
    const key = r.pick(['user', 'message', 'status', 'origin', 'ts', '__proto__', 'constructor'])
    c[key] = r.pick<unknown>([null, 1, -1, 1e308, '', 'x'.repeat(257), 'x'.repeat(513), '\u0000', '\ud800', [], {}, true, 'READ', randomString(r, 8)])
  }
  return c
}

function body (r: Prng): string | Buffer | undefined {
  switch (r.int(0, 11)) {
    case 0: return undefined
    case 1: return ''
    case 2: return Buffer.from(Array.from({ length: r.int(1, 200) }, () => r.int(0, 255)))
    case 3: return '['.repeat(r.int(1, 100_000))
    case 4: return JSON.stringify({ changes: Array.from({ length: r.pick([0, 1, MAX_API_CHANGES, MAX_API_CHANGES + 1]) }, () => change(r)) })
    case 5: return '{"__proto__": {"polluted": 1}, "user": "u", "message": "m", "status": "read"}'
    case 6: return JSON.stringify(r.pick<unknown>([null, 1, 'x', [], {}, { changes: 'x' }, { changes: {} }, { changes: [null] }]))
    case 7: return '{"user": "u", "message": "m", "status": "read"' // truncated
    case 8: return JSON.stringify({ changes: Array.from({ length: r.int(1, 5) }, () => change(r)) })
    default: return JSON.stringify(change(r))
  }
}

interface Answer { status: number, text: string }

async function call (port: number, method: string, p: string, headers: Record<string, string>, data: string | Buffer | undefined): Promise<Answer | 'hang' | 'error'> {
  return await new Promise(resolve => {
    // A header our own client refuses to send is not a case; raw cases cover such bytes.
    try { for (const v of Object.values(headers)) validateHeaderValue('x', v) } catch { resolve('error'); return }
    const req = request({ host: '127.0.0.1', port, method, path: p, headers, timeout: CASE_DEADLINE_MS, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', () => resolve('error'))
    })
    req.on('timeout', () => { req.destroy(); resolve('hang') })
    req.on('error', () => resolve('error'))
    req.end(data)
  })
}

/** Malformed HTTP straight onto a socket: the server must answer or close. */
async function rawCase (r: Prng, port: number): Promise<string> {
  const lines = [
    `${r.pick(['GET', 'POST', 'G\u0000T', ''])} ${r.pick(['/v1/health', '*', 'http://[', '/%', '/' + 'a'.repeat(20_000)])} HTTP/${r.pick(['1.1', '1.0', '9.9', 'x'])}`,
    r.pick(['Host: x', 'Content-Length: -1', 'Content-Length: 99999999999', 'Transfer-Encoding: chunked', 'Content-Length: 5\r\nContent-Length: 6', 'X: \u0001']),
    `Authorization: Bearer ${r.pick([TOKEN, '', 'x'])}`
  ]
  const payload = r.chance(0.5) ? Buffer.from(lines.join('\r\n') + '\r\n\r\n' + r.pick(['', '0\r\n\r\n', 'zz\r\n'])) : Buffer.concat([Buffer.from(Array.from({ length: r.int(1, 300) }, () => r.int(0, 255))), Buffer.from('\r\n\r\n')])
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    const timer = setTimeout(() => { socket.destroy(); resolve('hang') }, CASE_DEADLINE_MS)
    let got = ''
    socket.on('data', (d: Buffer) => { got += d.toString('latin1') })
    socket.on('error', () => {})
    socket.on('close', () => { clearTimeout(timer); resolve(got.startsWith('HTTP/1.1 ') ? `raw-${got.slice(9, 12)}` : 'raw-closed') })
    socket.end(payload)
  })
}

export async function runApiFuzz (seed: number, options: { maxCases: number, deadline: number, dir: string, concurrency?: number }): Promise<ApiFuzzResult> {
  const started = performance.now()
  const out: ApiFuzzResult = { cases: 0, statuses: {}, hangs: 0, internalErrors: 0, authBypasses: 0, unexpectedWrites: 0, acknowledgedEntries: 0, aliveAfter: false, ms: 0, errors: [] }
  const node = await openNode({ id: 'api', dir: join(options.dir, 'api'), api: { token: TOKEN, backend: { cluster: 'fuzz', purge: async () => await node.store.purge(0) } } })
  const { store } = node
  const api = node.api as ApiServer
  const acked = new Set<string>()
  const note = (entries: LogEntry[]): void => {
    for (const e of entries) acked.add(JSON.stringify([e.user, e.message, e.status, e.origin, e.ts]))
    out.acknowledgedEntries += entries.length
  }
  const root = new Prng(seed)
  try {
    const workers = Array.from({ length: options.concurrency ?? 8 }, async () => {
      const r = root.fork()
      while (out.cases < options.maxCases && Date.now() < options.deadline) {
        out.cases++
        if (r.chance(0.05)) {
          const s = await rawCase(r, api.port)
          out.statuses[s] = (out.statuses[s] ?? 0) + 1
          if (s === 'hang') out.hangs++
          continue
        }
        const method = r.chance(0.8) ? r.pick(['GET', 'POST']) : r.pick(METHODS)
        const p = path(r)
        const auth = r.pick(['right', 'right', 'right', 'none', 'wrong', 'short'])
        const headers: Record<string, string> = {}
        if (auth === 'right') headers.authorization = `Bearer ${TOKEN}`
        else if (auth === 'wrong') headers.authorization = `Bearer ${TOKEN.slice(0, -1)}X`
        else if (auth === 'short') headers.authorization = r.pick(['Bearer ', 'Basic eA==', `Basic ${TOKEN}`, `Bearer${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer x${TOKEN}`, `Bearer ${TOKEN.toUpperCase()}`, TOKEN])
        if (r.chance(0.8)) headers['content-type'] = r.pick(['application/json', 'text/plain', ''])
        const data = method === 'GET' || method === 'HEAD' ? (r.chance(0.1) ? body(r) : undefined) : body(r)
        const a = await call(api.port, method, p, headers, data)
        const label = typeof a === 'string' ? a : String(a.status)
        out.statuses[label] = (out.statuses[label] ?? 0) + 1
        if (a === 'hang') { out.hangs++; continue }
        if (a === 'error') continue
        if (a.status >= 500) {
          out.internalErrors++
          if (out.errors.length < 20) out.errors.push(`${a.status} ${method} ${p.slice(0, 200)}: ${a.text.slice(0, 200)}`)
        }
        const pathname = p.split('?')[0]
        const open = PUBLIC_PATHS.has(pathname) || PUBLIC_PATHS.has(normalized(pathname))
        if (a.status < 300 && auth !== 'right' && !open) {
          out.authBypasses++
          if (out.errors.length < 20) out.errors.push(`auth bypass: ${a.status} ${method} ${p.slice(0, 200)}`)
        }
        if (a.status === 200 && method === 'POST' && pathname === '/v1/changes') {
          try { note((JSON.parse(a.text) as { entries: LogEntry[] }).entries) } catch { out.unexpectedWrites++ }
        }
      }
    })
    await Promise.all(workers)
    // Alive: a fresh honest write is acknowledged and reads back.
    const w = await call(api.port, 'POST', '/v1/changes', { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ user: 'final', message: 'm', status: 'read' }))
    if (typeof w !== 'string' && w.status === 200) {
      note((JSON.parse(w.text) as { entries: LogEntry[] }).entries)
      const g = await call(api.port, 'GET', '/v1/users/final/messages/m', { authorization: `Bearer ${TOKEN}` }, undefined)
      out.aliveAfter = typeof g !== 'string' && g.status === 200 && (JSON.parse(g.text) as { status: string }).status === 'read'
    }
    // Exactly what was acknowledged: one seq per acknowledged entry, every winner among them.
    if (store.lastSeq !== out.acknowledgedEntries) {
      out.unexpectedWrites += Math.abs(store.lastSeq - out.acknowledgedEntries)
      out.errors.push(`store seq ${store.lastSeq}, acknowledged entries ${out.acknowledgedEntries}`)
    }
    for await (const c of store.winners()) {
      if (!acked.has(JSON.stringify([c.user, c.message, c.status, c.origin, c.ts]))) {
        out.unexpectedWrites++
        if (out.errors.length < 20) out.errors.push(`unexpected winner ${c.user}/${c.message}`)
      }
    }
  } catch (err) {
    out.errors.push(String((err as Error)?.stack ?? err))
  } finally {
    await node.stop()
  }
  out.ms = performance.now() - started
  return out
}
