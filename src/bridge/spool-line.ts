/**
 * One line of the Lua driver's spool (examples/dovecot/marksync-push.lua):
 * `v1 TAB user TAB event TAB mailbox TAB uidvalidity TAB uid TAB flags TAB origin`,
 * text fields percent-encoded for "%", TAB, CR and LF.
 */
export type SpoolEventKind = 'flags-set' | 'flags-clear' | 'new' | 'expunge'

export interface SpoolEvent {
  user: string
  kind: SpoolEventKind
  mailbox: string
  uidValidity: number
  uid: number
  flags: string
  /** The master user whose session made the change; '' for the user's own sessions. */
  origin: string
}

const KINDS = new Set<string>(['flags-set', 'flags-clear', 'new', 'expunge'])

function decode (text: string): string {
  // Most fields hold no escape: skip the regular expression for them (it ran on every field of every line).
  if (!text.includes('%')) return text
  return text.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

const DIGITS = /^\d{1,10}$/

function count (text: string): number | undefined {
  return DIGITS.test(text) ? Number(text) : undefined
}

/** The event, or undefined for a line this version does not understand (counted by the caller). */
export function parseSpoolLine (line: string): SpoolEvent | undefined {
  const fields = line.split('\t')
  if (fields.length !== 8 || fields[0] !== 'v1') return undefined
  const [, user, kind, mailbox, validity, uid, flags, origin] = fields as [string, string, string, string, string, string, string, string]
  const uidValidity = count(validity)
  const uidNumber = count(uid)
  if (user === '' || !KINDS.has(kind) || uidValidity === undefined || uidNumber === undefined) return undefined
  return { user: decode(user), kind: kind as SpoolEventKind, mailbox: decode(mailbox), uidValidity, uid: uidNumber, flags: decode(flags), origin: decode(origin) }
}
