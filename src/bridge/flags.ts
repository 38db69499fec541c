import type { Status } from '../types.js'

/**
 * The mapping between IMAP system flags and marksync's status (docs/dovecot.md):
 * `\Deleted` → deleted; otherwise `\Seen` → read; otherwise unread. Applying a
 * status sets exactly the flags that make the mapping give it back.
 */
export function statusOfFlags (flags: Iterable<string>): Status {
  let seen = false
  for (const flag of flags) {
    const name = flag.toLowerCase()
    if (name === '\\deleted') return 'deleted'
    if (name === '\\seen') seen = true
  }
  return seen ? 'read' : 'unread'
}

/** The STOREs that turn any message into `status`: flags to add, then flags to remove. */
export function flagChangesFor (status: Status): { add: string[], remove: string[] } {
  if (status === 'deleted') return { add: ['\\Deleted'], remove: [] }
  if (status === 'read') return { add: ['\\Seen'], remove: ['\\Deleted'] }
  return { add: [], remove: ['\\Seen', '\\Deleted'] }
}

/** The Message-ID from a fetched header block: unfolded, trimmed, `<>` kept; undefined if absent. */
export function messageIdOf (headers: Buffer | undefined): string | undefined {
  if (headers === undefined) return undefined
  const text = headers.toString('utf8').replace(/\r?\n[ \t]+/g, ' ')
  const match = /^message-id:[ \t]*(.*)$/im.exec(text)
  const value = match?.[1]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/**
 * The status after a Lua flag event, from the status before it and the flags the event
 * set or cleared (the events name the changed flags, not the whole set); undefined
 * when the event alone cannot tell (`\Deleted` cleared: is `\Seen` still set?).
 */
export function statusAfterEvent (before: Status, kind: 'flags-set' | 'flags-clear', flags: string): Status | undefined {
  const changed = new Set(flags.toLowerCase().split(' '))
  if (kind === 'flags-set') {
    if (changed.has('\\deleted')) return 'deleted'
    return changed.has('\\seen') && before === 'unread' ? 'read' : before
  }
  if (changed.has('\\deleted')) return changed.has('\\seen') ? 'unread' : undefined
  return changed.has('\\seen') && before === 'read' ? 'unread' : before
}
