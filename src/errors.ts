/**
 * Errors that callers may act on carry a stable uppercase `code`
 * (documented in docs/storage.md, docs/protocol.md and docs/operations.md; a test checks
 * that every code below is). Programmer mistakes stay plain `TypeError`s.
 */
export const ERROR_CODES = [
  'INVALID_USER',
  'INVALID_MESSAGE',
  'INVALID_STATUS',
  'INVALID_ORIGIN',
  'INVALID_TIMESTAMP',
  'INVALID_ENTRY',
  'BATCH_TOO_LARGE',
  'CLOCK_SKEW',
  'DATA_DIR_LOCKED',
  'DATA_DIR_UNUSABLE',
  'STORE_NOT_OPEN',
  'STORE_VERSION',
  'NODE_ID_MISMATCH',
  'STORE_CORRUPT',
  'DISK_FULL',
  'STORE_UNAVAILABLE',
  'INVALID_NODE_ID',
  'INVALID_PEER',
  // replication protocol (docs/protocol.md "Error codes")
  'INVALID_FRAME',
  'UNKNOWN_FRAME',
  'UNEXPECTED_FRAME',
  'FRAME_TOO_LARGE',
  'UNSUPPORTED_VERSION',
  'WRONG_CLUSTER',
  'UNKNOWN_PEER',
  'AUTH_FAILED',
  'NOT_AUTHENTICATED',
  'HANDSHAKE_TIMEOUT',
  'HEARTBEAT_TIMEOUT',
  'DUPLICATE_SESSION',
  'WINDOW_EXCEEDED',
  'SHUTTING_DOWN',
  'UNKNOWN_ORIGIN',
  'REINCARNATED',
  'SOCKET_ERROR',
  'INVALID_URL',
  // per-peer budgets (docs/security.md "Budgets")
  'RATE_LIMITED',
  'BACKED_OFF',
  'TOO_MANY_CONNECTIONS',
  'SLOW_PEER',
  // daemon, mesh file and HTTP API (docs/operations.md "Error codes")
  'CONFIG_INVALID',
  'INVALID_CONFIG',
  'BAD_JSON',
  'BODY_TOO_LARGE',
  'TOO_MANY_CHANGES',
  'INVALID_QUERY',
  'INVALID_PATH',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'REQUEST_TIMEOUT',
  'INTERNAL',
  // the CLI (docs/operations.md "Error codes")
  'USAGE',
  'UNREACHABLE',
  'BAD_RESPONSE',
  'NOT_THE_API',
  'TOKEN_MISSING',
  'TOKEN_REJECTED',
  // admin commands: mark-all, export, import (docs/operations.md "Error codes")
  'INVALID_TIME',
  'INVALID_IMPORT',
  'FILE_ERROR',
  // the Dovecot bridge's spool (docs/dovecot.md "Troubleshooting")
  'SPOOL_UNREADABLE',
  'SPOOL_NOT_ROTATED'
] as const

/** An HTTP error status without a marksync code in the body, as the CLI reports it. */
export type HttpStatusCode = `HTTP_${number}`

export type ErrorCode = typeof ERROR_CODES[number] | HttpStatusCode

const KNOWN = new Set<string>(ERROR_CODES)

/** True for a code of the list above (e.g. one read from an API answer). */
export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && (KNOWN.has(code) || /^HTTP_\d{3}$/.test(code))
}

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

/** The first operating-system error (`EACCES`, `ENOTDIR`...) in `err`'s cause chain. */
export function errnoCause (err: unknown): NodeJS.ErrnoException | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return e as NodeJS.ErrnoException
  }
  return undefined
}
