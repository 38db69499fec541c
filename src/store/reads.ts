/**
 * The store's read paths. Reads go straight to LevelDB (not through the write
 * queue): each reads from a snapshot taken when it starts, so it sees whole
 * batches only; `readWinnersOf` answers from the winner cache first (per message).
 */
import type { Level } from 'level'
import { MAX_PAGE_ENTRIES } from '../limits.js'
import { physicalMs } from '../hlc.js'
import { checkMessage, checkUser } from '../validate.js'
import type { LogEntry, MessageState } from '../types.js'
import type { WinnersOptions } from './api.js'
import { decodeFeed, decodeWinner, type WinnerRecord } from './codec.js'
import type { BoundedCache } from './bounded-cache.js'
import { pairId } from './change-batch.js'
import { FAMILY, feedKey, logKey, pairOfKey, prefixEnd, readComponent, seqOfKey, unreadKey, userPrefix, winnerKey } from './keys.js'

type Db = Level<Buffer, Buffer>

const FEED_START = Buffer.of(FAMILY.feed)
const FEED_END = Buffer.of(FAMILY.feed + 1)
const WINNERS_START = Buffer.of(FAMILY.winner)
const WINNERS_END = Buffer.of(FAMILY.winner + 1)

/** A page size: default and cap `MAX_PAGE_ENTRIES`. */
export function checkLimit (limit: number | undefined): number {
  if (limit === undefined) return MAX_PAGE_ENTRIES
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer')
  return Math.min(limit, MAX_PAGE_ENTRIES)
}

export function checkSeq (seq: number, what: string): number {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError(`${what} must be a non-negative integer`)
  return seq
}

function toLogEntry (seq: number, value: Buffer): LogEntry {
  const r = decodeFeed(value)
  const entry: LogEntry = { seq, user: r.user, message: r.message, status: r.status, origin: r.origin, ts: r.ts, originTime: physicalMs(r.ts), localTime: r.localTime }
  if (r.from !== undefined) entry.from = r.from
  return entry
}

function toState (user: string, message: string, value: Buffer | WinnerRecord): MessageState {
  const w = Buffer.isBuffer(value) ? decodeWinner(value) : value
  return { user, message, status: w.status, origin: w.origin, ts: w.ts, originTime: physicalMs(w.ts), localTime: w.localTime, seq: w.seq }
}

export async function readUnread (db: Db, user: string, options: { after?: string, limit?: number }): Promise<string[]> {
  checkUser(user)
  const limit = checkLimit(options.limit)
  const prefix = userPrefix(FAMILY.unread, user)
  const gt = options.after === undefined ? prefix : unreadKey(user, checkMessage(options.after))
  const keys = await db.keys({ gt, lt: prefixEnd(prefix), limit }).all()
  return keys.map(key => readComponent(key, prefix.length).value)
}

export async function readWinner (db: Db, user: string, message: string): Promise<MessageState | undefined> {
  const value = await db.get(winnerKey(checkUser(user), checkMessage(message)))
  return value === undefined ? undefined : toState(user, message, value)
}

/**
 * The winners of several messages of one user: those in the winner cache from there (it holds
 * committed winners only, as new as the disk's or newer), the rest in one LevelDB read. Each
 * answer is the message's committed winner at the call or later; the answers are not one
 * snapshot across messages.
 */
export async function readWinnersOf (db: Db, cache: BoundedCache<WinnerRecord>, user: string, messages: readonly string[]): Promise<Array<MessageState | undefined>> {
  checkUser(user)
  if (messages.length > MAX_PAGE_ENTRIES) throw new TypeError(`at most ${MAX_PAGE_ENTRIES} messages per call`)
  const out: Array<MessageState | undefined> = []
  const missing: number[] = []
  for (const [i, message] of messages.entries()) {
    const cached = cache.get(pairId(user, checkMessage(message)))
    if (cached === undefined) missing.push(i)
    out.push(cached === undefined ? undefined : toState(user, message, cached))
  }
  if (missing.length === 0) return out
  const values = await db.getMany(missing.map(i => winnerKey(user, messages[i] as string)))
  values.forEach((value, n) => {
    const i = missing[n] as number
    if (value !== undefined) out[i] = toState(user, messages[i] as string, value)
  })
  return out
}

export async function readLog (db: Db, user: string, options: { after?: number, limit?: number }): Promise<LogEntry[]> {
  checkUser(user)
  const after = checkSeq(options.after ?? 0, 'after')
  const limit = checkLimit(options.limit)
  const prefix = userPrefix(FAMILY.log, user)
  const keys = await db.keys({ gt: logKey(user, after), lt: prefixEnd(prefix), limit }).all()
  const seqs = keys.map(seqOfKey)
  const values = await db.getMany(seqs.map(feedKey))
  const entries: LogEntry[] = []
  // A purge between the two reads may have removed some entries: skip them, they are gone.
  values.forEach((value, i) => { if (value !== undefined) entries.push(toLogEntry(seqs[i], value)) })
  return entries
}

/** The seq of the oldest entry in the feed (`lastSeq + 1` when the feed is empty). */
export async function readOldestSeq (db: Db, lastSeq: number): Promise<number> {
  const first = await db.keys({ gt: FEED_START, lt: FEED_END, limit: 1 }).all()
  return first.length === 0 ? lastSeq + 1 : seqOfKey(first[0])
}

export async function readFeed (db: Db, afterSeq: number, limit: number): Promise<LogEntry[]> {
  const gt = feedKey(checkSeq(afterSeq, 'afterSeq'))
  const rows = await db.iterator({ gt, lt: FEED_END, limit: checkLimit(limit) }).all()
  return rows.map(([key, value]) => toLogEntry(seqOfKey(key), value))
}

/** Checks its arguments when called (not at the first `next()`), so mistakes show where they are made. */
export function readWinners (db: Db, options: WinnersOptions): AsyncIterable<MessageState> {
  if (options.user !== undefined) {
    const prefix = userPrefix(FAMILY.winner, checkUser(options.user))
    if (options.after !== undefined && options.after.user !== options.user) throw new TypeError('after must name the same user')
    const gt = options.after === undefined ? prefix : winnerKey(options.user, checkMessage(options.after.message))
    return iterateWinners(db, { gt, lt: prefixEnd(prefix) })
  }
  const range = options.after === undefined
    ? { gte: WINNERS_START, lt: WINNERS_END }
    : { gt: winnerKey(checkUser(options.after.user), checkMessage(options.after.message)), lt: WINNERS_END }
  return iterateWinners(db, range)
}

async function * iterateWinners (db: Db, range: { gt?: Buffer, gte?: Buffer, lt: Buffer }): AsyncIterable<MessageState> {
  // Iterates in key order, a few entries at a time: memory stays bounded whatever the size.
  for await (const [key, value] of db.iterator(range)) {
    const { user, message } = pairOfKey(key)
    yield toState(user, message, value)
  }
}
