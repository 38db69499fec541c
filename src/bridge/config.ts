import { resolve } from 'node:path'
import { DEFAULT_BRIDGE_CATCH_UP_MS, MIN_BRIDGE_CATCH_UP_MS } from '../limits.js'
import { checkUser } from '../validate.js'
import { parseAddress, type Address } from '../config/address.js'
import { parseDuration } from '../config/duration.js'
import { checkKeys, isObject, type JsonPath, type Problems } from '../config/problems.js'

/** A node's `dovecot` section: how its bridge reaches the local Dovecot (docs/dovecot.md). */
export interface DovecotSection {
  /** Dovecot's IMAP listener (plain IMAP: loopback or a trusted network). */
  imap: Address
  /** The master user the bridge logs in as ("alice*marksync"). */
  masterUser: string
  /** Absolute path of the file holding the master user's password. */
  masterPasswordFile: string
  /** Absolute path of the Lua driver's spool file. */
  spool: string
  /** Mailboxes watched and written; undefined: every selectable mailbox of the user. */
  mailboxes?: string[]
  /** Users caught up at start besides those the bridge has already seen. */
  users: string[]
  catchUpIntervalMs: number
}

const KEYS = ['imap', 'masterUser', 'masterPasswordFile', 'spool', 'mailboxes', 'users', 'catchUpInterval'] as const
const MASTER_USER = /^[A-Za-z0-9._-]{1,64}$/
/** Most names in `mailboxes` or `users`. */
export const MAX_DOVECOT_LIST = 1_000

function stringList (value: unknown, at: JsonPath, problems: Problems, check: (s: string) => string): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DOVECOT_LIST) {
    problems.add(at, `must be an array of 1..${MAX_DOVECOT_LIST} names`)
    return undefined
  }
  const out: string[] = []
  value.forEach((item: unknown, i: number) => {
    try {
      if (typeof item !== 'string' || item === '') throw new Error('must be a non-empty string')
      out.push(check(item))
    } catch (err) {
      problems.add([...at, i], (err as Error).message)
    }
  })
  return out
}

function filePath (value: unknown, at: JsonPath, problems: Problems, dir: string): string | undefined {
  if (typeof value === 'string' && value !== '') return resolve(dir, value)
  problems.add(at, 'must be a non-empty path')
  return undefined
}

/** Parses `nodes[i].dovecot`; undefined (with problems added) when it is wrong. */
export function parseDovecotSection (raw: unknown, at: JsonPath, problems: Problems, dir: string): DovecotSection | undefined {
  if (!isObject(raw)) {
    problems.add(at, 'must be {"imap", "masterUser", "masterPasswordFile", "spool", ...}')
    return undefined
  }
  const before = problems.list.length
  checkKeys(raw, KEYS, at, problems)
  const imap = parseAddress(raw.imap ?? '127.0.0.1:143')
  if (typeof imap === 'string') problems.add([...at, 'imap'], imap)
  else if (imap.port === 0) problems.add([...at, 'imap'], 'needs a port (Dovecot listens on a fixed one)')
  const masterUser = raw.masterUser ?? 'marksync'
  if (typeof masterUser !== 'string' || !MASTER_USER.test(masterUser)) problems.add([...at, 'masterUser'], 'must be 1..64 characters of [A-Za-z0-9._-]')
  const masterPasswordFile = filePath(raw.masterPasswordFile, [...at, 'masterPasswordFile'], problems, dir)
  const spool = filePath(raw.spool, [...at, 'spool'], problems, dir)
  const mailboxes = raw.mailboxes === undefined ? undefined : stringList(raw.mailboxes, [...at, 'mailboxes'], problems, s => s)
  const users = raw.users === undefined ? [] : stringList(raw.users, [...at, 'users'], problems, checkUser)
  let catchUpIntervalMs: number | undefined = DEFAULT_BRIDGE_CATCH_UP_MS
  if (raw.catchUpInterval !== undefined) {
    catchUpIntervalMs = parseDuration(raw.catchUpInterval)
    if (catchUpIntervalMs === undefined || catchUpIntervalMs < MIN_BRIDGE_CATCH_UP_MS) {
      problems.add([...at, 'catchUpInterval'], `must be a duration of at least ${MIN_BRIDGE_CATCH_UP_MS} ms ("30s", "5m")`)
    }
  }
  if (problems.list.length > before || typeof imap === 'string' || masterPasswordFile === undefined || spool === undefined ||
    users === undefined || catchUpIntervalMs === undefined) return undefined
  const section: DovecotSection = { imap, masterUser: masterUser as string, masterPasswordFile, spool, users, catchUpIntervalMs }
  if (mailboxes !== undefined) section.mailboxes = mailboxes
  return section
}
