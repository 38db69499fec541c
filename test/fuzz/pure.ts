/**
 * The fast half of the frame fuzzer: hostile bytes straight into `decodeFrame` (scan,
 * msgpack decode, validation), no sockets. A case passes if the decoder returns a frame
 * that survives a re-encode round trip unchanged, or refuses it with one of the codes
 * a session closes with. Anything else thrown is a crash; a case slower than
 * SLOW_CASE_MS is a hang; a changed Object.prototype is a crash too.
 */
import { isDeepStrictEqual } from 'node:util'
import { isMarksyncError } from '../../src/errors.js'
import { decodeFrame, encodeFrame } from '../../src/protocol/index.js'
import { Prng } from '../helpers/prng.js'
import { frameCase, type FrameContext } from './frame-cases.js'

/** A single decode taking longer than this counts as a hang, in ms. */
export const SLOW_CASE_MS = 250
/** Codes `decodeFrame` may refuse with (docs/protocol.md "Error codes"). */
export const DECODE_CODES: ReadonlySet<string> = new Set(['INVALID_FRAME', 'UNKNOWN_FRAME', 'BATCH_TOO_LARGE'])

export interface Finding {
  kind: 'crash' | 'hang' | 'roundtrip'
  seed: number
  index: number
  detail: string
  hex: string
}

export interface PureResult {
  cases: number
  accepted: number
  refused: Record<string, number>
  crashes: number
  hangs: number
  /** Cases slow once but fast when timed again (process pauses, not hangs). */
  stalls: number
  /** Accepted frames that did not survive encode → decode unchanged. */
  roundtripFailures: number
  findings: Finding[]
  ms: number
}

const CONTEXT: FrameContext = { cluster: 'fuzz', node: 'x', target: 't', now: Date.now() }
/** Findings kept for the report; counts go on beyond it. */
const MAX_FINDINGS = 20

export function runPure (seed: number, options: { maxCases: number, deadline: number }): PureResult {
  const r = new Prng(seed)
  const out: PureResult = { cases: 0, accepted: 0, refused: {}, crashes: 0, hangs: 0, stalls: 0, roundtripFailures: 0, findings: [], ms: 0 }
  const started = performance.now()
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).length
  const note = (kind: Finding['kind'], index: number, detail: string, bytes: Buffer): void => {
    if (out.findings.length < MAX_FINDINGS) out.findings.push({ kind, seed, index, detail, hex: bytes.subarray(0, 256).toString('hex') })
  }
  for (let i = 0; i < options.maxCases; i++) {
    // The clock is read once per 1024 cases: Date.now() per case would dominate.
    if ((i & 1023) === 0 && Date.now() > options.deadline) break
    const c = frameCase(r, CONTEXT)
    out.cases++
    const t0 = performance.now()
    try {
      const frame = decodeFrame(c.bytes)
      out.accepted++
      const again = decodeFrame(encodeFrame(frame))
      if (!isDeepStrictEqual(normalize(again), normalize(frame))) {
        out.roundtripFailures++
        note('roundtrip', i, `${frame.type} changed in a round trip`, c.bytes)
      }
    } catch (err) {
      if (isMarksyncError(err) && DECODE_CODES.has(err.code)) {
        out.refused[err.code] = (out.refused[err.code] ?? 0) + 1
      } else {
        out.crashes++
        note('crash', i, `${(err as Error)?.name}: ${(err as Error)?.message}`, c.bytes)
      }
    }
    const took = performance.now() - t0
    if (took > SLOW_CASE_MS) {
      // A pause of the process (GC, a busy shared machine) is not the input's doing:
      // the case is timed again, and only a case slow every time is a hang.
      const again = Math.min(timeDecode(c.bytes), timeDecode(c.bytes))
      if (again > SLOW_CASE_MS) {
        out.hangs++
        note('hang', i, `${took.toFixed(0)} ms, then ${again.toFixed(0)} ms`, c.bytes)
      } else {
        out.stalls++
      }
    }
    if (Object.getOwnPropertyNames(Object.prototype).length !== protoKeys || ({} as Record<string, unknown>).polluted !== undefined) {
      out.crashes++
      note('crash', i, 'Object.prototype was changed', c.bytes)
      break
    }
  }
  out.ms = performance.now() - started
  return out
}

function timeDecode (bytes: Buffer): number {
  const t0 = performance.now()
  try { decodeFrame(bytes) } catch {}
  return performance.now() - t0
}

/** Buffers and Uint8Arrays compare by content. */
function normalize (value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]))
  return value
}
