/** The status a message has for one user. */
export type Status = 'read' | 'unread' | 'deleted'
export const STATUSES: readonly Status[] = ['read', 'unread', 'deleted']

/** What a mail server asks for: set this message's status for this user. */
export interface LocalChange {
  user: string
  message: string
  status: Status
}

/**
 * A change as it travels between nodes. `(ts, origin)` orders every change of a
 * (user, message) pair the same way on every node: higher `ts` wins, equal `ts`
 * is broken by the byte order of `origin`.
 */
export interface Change extends LocalChange {
  /** Id of the node where the change was made. */
  origin: string
  /** Packed hybrid logical clock timestamp (see src/hlc.ts). */
  ts: number
}

/** A change as entered in one node's log. */
export interface LogEntry extends Change {
  /** This node's sequence number for the entry: 1, 2, 3... without gaps at entry time. */
  seq: number
  /** The origin's clock time of the change in ms since the epoch (the physical part of `ts`). */
  originTime: number
  /** This node's wall clock, in ms since the epoch, when it entered the change. */
  localTime: number
  /** The peer it was received from; absent for changes made on this node. */
  from?: string
}

/** The current winner of one (user, message) pair on this node. */
export interface MessageState extends Change {
  originTime: number
  localTime: number
  /** `seq` of the log entry that made this the winner. */
  seq: number
}

/** What `applyRemote` did with a batch. */
export interface ApplyResult {
  /** The entries that won and were entered, in order, with their new `seq`. */
  entered: LogEntry[]
  /** Discarded because the current winner is greater. */
  stale: number
  /** Discarded because the current winner is the very same change. */
  duplicate: number
}
