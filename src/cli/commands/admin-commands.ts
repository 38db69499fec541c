/**
 * Admin client commands: bulk marks, export and import (docs/operations.md "CLI").
 * Export and import go through the API, so they work on a running node.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { IMPORT_REQUEST_BYTES, MAX_API_CHANGES, MAX_API_PAGE } from '../../limits.js'
import { headerLine, lines, parseChangeLine, parseHeader, winnerLine } from '../../admin/export-format.js'
import { parseTime, type MarkAllResult } from '../../admin/mark-all.js'
import type { HistoryRow, MessageHistory } from '../../admin/history.js'
import { isoTime, signedMs, table } from '../format.js'
import { MarksyncError } from '../../errors.js'
import type { Change, MessageState, Status } from '../../types.js'
import type { ApiClient } from '../client.js'
import { userPath } from '../client.js'
import type { Io } from '../io.js'
import { clientFor } from '../target.js'
import type { ClientArgs } from './client-commands.js'

export async function markAll (args: ClientArgs & { user: string, status: Status, before?: string }, io: Io): Promise<number> {
  const client = clientFor(args)
  const body = { status: args.status, ...(args.before === undefined ? {} : { before: parseTime(args.before) }) }
  const result = await client.request<MarkAllResult>('POST', userPath(args.user, 'mark-all'), body)
  const skipped = result.skipped > 0 ? `; ${result.skipped} newer unread left as they were` : ''
  io.out(args.json === true ? JSON.stringify(result, null, 2) : `${result.marked} messages of ${result.user} marked ${result.status}${skipped}`)
  return 0
}

/** File system errors in one line with the path; errors of the file's content pass through. */
function fileError (what: string, file: string, err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code
  if (code === undefined || err instanceof MarksyncError) throw err
  throw new MarksyncError('FILE_ERROR', `cannot ${what} ${file} (${code === 'EEXIST' ? 'it exists; export never overwrites a file' : code})`)
}

interface WinnersPage { winners: MessageState[], next: { user: string, message: string } | null }

/** Every winner of the node, page by page, in (user, message) order. */
async function * allWinners (client: ApiClient): AsyncGenerator<MessageState[]> {
  let next: WinnersPage['next'] = null
  do {
    const query = new URLSearchParams({ limit: String(MAX_API_PAGE) })
    if (next !== null) {
      query.set('afterUser', next.user)
      query.set('afterMessage', next.message)
    }
    const page: WinnersPage = await client.request<WinnersPage>('GET', `/v1/winners?${query.toString()}`)
    yield page.winners
    next = page.next
  } while (next !== null)
}

export async function exportWinners (args: ClientArgs & { output?: string }, io: Io): Promise<number> {
  const client = clientFor(args)
  const status = await client.request<{ node: string, cluster: string, wallTime: number }>('GET', '/v1/status')
  const file = args.output === undefined ? undefined : await open(args.output, 'wx').catch(err => fileError('create', args.output as string, err))
  const write = async (text: string): Promise<void> => { if (file === undefined) io.out(text); else await file.write(text + '\n') }
  let count = 0
  try {
    await write(headerLine(status.node, status.cluster, status.wallTime))
    for await (const winners of allWinners(client)) {
      if (winners.length > 0) await write(winners.map(winnerLine).join('\n'))
      count += winners.length
    }
    await file?.sync()
  } finally {
    await file?.close()
  }
  io.err(`exported ${count} winners of node ${status.node}${args.output === undefined ? '' : ` to ${args.output}`}`)
  return 0
}

/** Reads the whole file once to validate it: a bad line stops the import before anything is sent. */
async function checkFile (file: string): Promise<number> {
  let count = 0
  let header = false
  for await (const { line, lineNo } of lines(createReadStream(file))) {
    if (header) {
      parseChangeLine(line, lineNo)
      count++
    } else {
      parseHeader(line)
      header = true
    }
  }
  if (!header) throw new MarksyncError('INVALID_IMPORT', `${file} is empty: not a marksync export`)
  return count
}

async function * batches (file: string): AsyncGenerator<Change[]> {
  let batch: Change[] = []
  let bytes = 0
  let first = true
  for await (const { line, lineNo } of lines(createReadStream(file))) {
    if (first) {
      first = false
      continue
    }
    batch.push(parseChangeLine(line, lineNo))
    bytes += Buffer.byteLength(line)
    if (batch.length === MAX_API_CHANGES || bytes >= IMPORT_REQUEST_BYTES) {
      yield batch
      batch = []
      bytes = 0
    }
  }
  if (batch.length > 0) yield batch
}

export async function importWinners (args: ClientArgs & { file: string }, io: Io): Promise<number> {
  const client = clientFor(args)
  const total = await checkFile(args.file).catch(err => fileError('read', args.file, err))
  const sum = { changes: total, entered: 0, stale: 0, duplicate: 0 }
  for await (const changes of batches(args.file)) {
    const result = await client.request<{ entered: number, stale: number, duplicate: number }>('POST', '/v1/import', { changes })
    sum.entered += result.entered
    sum.stale += result.stale
    sum.duplicate += result.duplicate
  }
  const human = `imported ${args.file}: ${sum.changes} changes, ${sum.entered} entered, ` +
    `${sum.stale} older than what the node has (kept its newer status), ${sum.duplicate} already there`
  io.out(args.json === true ? JSON.stringify(sum, null, 2) : human)
  return 0
}

export async function explain (args: ClientArgs & { user: string, message: string }, io: Io): Promise<number> {
  const client = clientFor(args)
  const h = await client.request<MessageHistory>('GET', userPath(args.user, 'messages', args.message, 'history'))
  if (args.json === true) {
    io.out(JSON.stringify(h, null, 2))
    return 0
  }
  const now = h.current === null ? 'no status known here' : `${h.current.status} now (origin ${h.current.origin}, seq ${h.current.seq})`
  const offset = (c: HistoryRow): string => c.originOffsetMs === null ? `${signedMs(c.apparentOffsetMs)}?` : signedMs(c.originOffsetMs)
  const rows = h.changes.map(c => [
    isoTime(c.localTime), c.outcome, c.status, c.origin, isoTime(c.originTime), offset(c), c.from ?? '-', c.seq === null ? '-' : String(c.seq), c.why
  ])
  const lines = [`${h.user} ${h.message}: ${now}`]
  if (rows.length > 0) lines.push(table(['LOCAL TIME', 'OUTCOME', 'STATUS', 'ORIGIN', 'ORIGIN TIME', 'ORIGIN OFFSET', 'FROM', 'SEQ', 'WHY'], rows))
  if (h.truncated) lines.push('(the user\'s log is long: only its oldest entries were searched)')
  lines.push(`(entered changes older than seq ${h.oldestSeq} were purged; discarded ones are kept for the same retention)`)
  io.out(lines.join('\n'))
  return 0
}
