/**
 * Every limit and default of marksync, in one place, with its unit.
 * docs/protocol.md, docs/storage.md and docs/operations.md cite these names;
 * change a value here and in those documents together.
 */

/** Longest user id, in bytes of UTF-8. */
export const MAX_USER_BYTES = 256
/** Longest message id, in bytes of UTF-8. */
export const MAX_MESSAGE_BYTES = 512
/** Longest node id, in bytes of UTF-8 (node ids are `[A-Za-z0-9._-]`). */
export const MAX_NODE_ID_BYTES = 64

/**
 * Bits of a packed HLC timestamp given to the logical counter. A timestamp is
 * `physicalMs * 2^HLC_LOGICAL_BITS + logical`, a safe integer until the year 2248.
 */
export const HLC_LOGICAL_BITS = 10
/** `2 ** HLC_LOGICAL_BITS`: one millisecond in timestamp units. */
export const HLC_UNITS_PER_MS = 2 ** HLC_LOGICAL_BITS

/** Default largest tolerated clock offset to a peer before it is marked skewed, in ms. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000
/** Default log retention, by local time, in ms (7 days). */
export const DEFAULT_LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000
/** Default durability of acknowledged writes. */
export const DEFAULT_DURABILITY = 'sync' as const

/** Most changes one `mark` or `applyRemote` call (and one replication batch) may carry. */
export const MAX_BATCH_ENTRIES = 5_000
/** Most entries one `feed`, `log` or `unread` call returns. */
export const MAX_PAGE_ENTRIES = 10_000
