/**
 * The export file of `marksync export` / `marksync import` (NDJSON, UTF-8, one JSON object
 * per line): a header line, then one line per winner with its stamp kept.
 *
 *   {"format":"marksync-export","version":1,"node":"a","cluster":"mail","exportedAt":1764450000000}
 *   {"user":"alice","message":"<id@host>","status":"read","origin":"b","ts":1807334400000000,"originTime":1764450000000,"localTime":1764450000012}
 *
 * `ts` and `origin` decide precedence on import; `originTime` (the physical part of `ts`)
 * and `localTime` (the exporting node's clock at entry) are kept for reading only.
 */
import { StringDecoder } from 'node:string_decoder'
import { MAX_IMPORT_LINE_BYTES } from '../limits.js'
import { MarksyncError } from '../errors.js'
import type { Change, MessageState } from '../types.js'
import { checkChange } from '../validate.js'

export const EXPORT_FORMAT = 'marksync-export'
export const EXPORT_VERSION = 1

export interface ExportHeader {
  format: typeof EXPORT_FORMAT
  version: number
  node: string
  cluster: string
  exportedAt: number
}

export function headerLine (node: string, cluster: string, exportedAt: number): string {
  const header: ExportHeader = { format: EXPORT_FORMAT, version: EXPORT_VERSION, node, cluster, exportedAt }
  return JSON.stringify(header)
}

export function winnerLine (s: MessageState): string {
  return JSON.stringify({ user: s.user, message: s.message, status: s.status, origin: s.origin, ts: s.ts, originTime: s.originTime, localTime: s.localTime })
}

function fail (lineNo: number, message: string): never {
  throw new MarksyncError('INVALID_IMPORT', `line ${lineNo}: ${message}`)
}

function parseJson (line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line)
  } catch (err) {
    return fail(lineNo, `not JSON (${(err as Error).message})`)
  }
}

/** Checks the first line: a header of a version this build reads. */
export function parseHeader (line: string): ExportHeader {
  const value = parseJson(line, 1) as Partial<ExportHeader> | null
  if (value?.format !== EXPORT_FORMAT) fail(1, `not a marksync export (the first line must be {"format":"${EXPORT_FORMAT}",...})`)
  if (value.version !== EXPORT_VERSION) fail(1, `export format version ${String(value.version)}; this marksync reads version ${EXPORT_VERSION}`)
  return value as ExportHeader
}

/** One change line, validated like a change from a peer. */
export function parseChangeLine (line: string, lineNo: number): Change {
  try {
    return checkChange(parseJson(line, lineNo))
  } catch (err) {
    if (err instanceof MarksyncError && err.code !== 'INVALID_IMPORT') fail(lineNo, `${err.message} (${err.code})`)
    throw err
  }
}

/** Lines of a UTF-8 text stream, with their numbers; a line over MAX_IMPORT_LINE_BYTES is refused before it is buffered whole. */
export async function * lines (stream: AsyncIterable<Buffer | string>): AsyncGenerator<{ line: string, lineNo: number }> {
  // A decoder, so a character split between two chunks is not mangled.
  const decoder = new StringDecoder('utf8')
  let partial = ''
  let lineNo = 0
  for await (const chunk of stream) {
    partial += typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let nl: number
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).replace(/\r$/, '')
      partial = partial.slice(nl + 1)
      lineNo++
      if (Buffer.byteLength(line) > MAX_IMPORT_LINE_BYTES) fail(lineNo, `longer than ${MAX_IMPORT_LINE_BYTES} bytes`)
      if (line.trim() !== '') yield { line, lineNo }
    }
    if (Buffer.byteLength(partial) > MAX_IMPORT_LINE_BYTES) fail(lineNo + 1, `longer than ${MAX_IMPORT_LINE_BYTES} bytes`)
  }
  partial += decoder.end()
  if (partial.trim() !== '') yield { line: partial, lineNo: lineNo + 1 }
}
