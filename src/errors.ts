/**
 * Errors that callers may act on carry a stable uppercase `code`
 * (documented in docs/storage.md, docs/protocol.md and docs/operations.md).
 * Programmer mistakes stay plain `TypeError`s.
 */
export type ErrorCode =
  | 'INVALID_USER'
  | 'INVALID_MESSAGE'
  | 'INVALID_STATUS'
  | 'INVALID_ORIGIN'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_ENTRY'
  | 'BATCH_TOO_LARGE'
  | 'CLOCK_SKEW'
  | 'DATA_DIR_LOCKED'
  | 'STORE_NOT_OPEN'
  | 'STORE_VERSION'
  | 'NODE_ID_MISMATCH'
  | (string & {})

export class MarksyncError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MarksyncError'
    this.code = code
  }
}

export function isMarksyncError (err: unknown, code?: ErrorCode): err is MarksyncError {
  return err instanceof MarksyncError && (code === undefined || err.code === code)
}
