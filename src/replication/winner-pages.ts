/**
 * Pages of the winners of a list of users, bounded like a batch, for the anti-entropy
 * pull (answering `ae-pull`) and push (building `ae-push`): both sides page alike.
 */
import type { MessageState } from '../types.js'
import { entryWireBytes } from '../protocol/index.js'
import type { WinnerAfter } from '../protocol/digest-frames.js'

export interface WinnerSource {
  winners: (options: { user: string, after?: { user: string, message: string } }) => AsyncIterable<MessageState>
}

export interface WinnerPage {
  entries: MessageState[]
  /** The last winner of the page when more may follow; null when the users are done. */
  next: WinnerAfter | null
}

export interface PageLimits {
  entries: number
  bytes: number
}

/** Winners of `users` (in that order) strictly after `after`, at most `limits`. */
export async function winnerPage (source: WinnerSource, users: readonly string[], after: WinnerAfter | null, limits: PageLimits): Promise<WinnerPage> {
  const entries: MessageState[] = []
  let bytes = 0
  const start = after === null ? 0 : users.indexOf(after[0])
  for (let i = Math.max(0, start); i < users.length; i++) {
    const from = i === start && after !== null ? { user: after[0], message: after[1] } : undefined
    for await (const w of source.winners({ user: users[i], after: from })) {
      const b = entryWireBytes(w)
      if (entries.length > 0 && (entries.length >= limits.entries || bytes + b > limits.bytes)) {
        const last = entries[entries.length - 1]
        return { entries, next: [last.user, last.message] }
      }
      bytes += b
      entries.push(w)
    }
  }
  return { entries, next: null }
}
