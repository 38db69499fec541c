import { isMarksyncError, MarksyncError, type ErrorCode } from '../errors.js'

/**
 * An error the API answers with `{"error": {"code", "message"}}`. Codes are stable
 * (docs/operations.md "Error codes"); the HTTP status follows from the code.
 */
export class HttpError extends MarksyncError {
  readonly status: number

  constructor (status: number, code: ErrorCode, message: string) {
    super(code, message)
    this.name = 'HttpError'
    this.status = status
  }
}

/** Validation codes of the store and validators: the caller's input was wrong. */
const BAD_INPUT = new Set<ErrorCode>(['INVALID_USER', 'INVALID_MESSAGE', 'INVALID_STATUS', 'INVALID_ENTRY', 'INVALID_ORIGIN', 'INVALID_TIMESTAMP', 'BATCH_TOO_LARGE', 'INVALID_TIME', 'CLOCK_SKEW'])
/** The node cannot serve right now; retry later or elsewhere. */
const UNAVAILABLE = new Set<ErrorCode>(['STORE_NOT_OPEN', 'SHUTTING_DOWN', 'STORE_UNAVAILABLE'])

/** The HTTP answer for any error; unknown failures become 500 INTERNAL without internals. */
export function toHttpError (err: unknown): HttpError {
  if (err instanceof HttpError) return err
  if (isMarksyncError(err)) {
    if (BAD_INPUT.has(err.code)) return new HttpError(400, err.code, err.message)
    if (UNAVAILABLE.has(err.code)) return new HttpError(503, err.code, err.message)
    // RFC 4918 "Insufficient Storage": this node cannot store the change until room is made.
    if (err.code === 'DISK_FULL') return new HttpError(507, err.code, err.message)
  }
  return new HttpError(500, 'INTERNAL', 'internal error (see the node\'s log)')
}

/** Validates every item of a request's list; an error keeps its code and names the item (`changes[i]: ...`). */
export function checkEach<T> (list: unknown[], check: (item: unknown) => T, name = 'changes'): T[] {
  return list.map((item, i) => {
    try {
      return check(item)
    } catch (err) {
      if (isMarksyncError(err)) throw new HttpError(400, err.code, `${name}[${i}]: ${err.message}`)
      throw err
    }
  })
}
