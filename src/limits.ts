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

/** Largest HTTP API request body, in bytes; beyond it the answer is 413 `BODY_TOO_LARGE`. */
export const MAX_API_BODY_BYTES = 1_048_576
/** Most changes one `POST /v1/changes` may carry (`TOO_MANY_CHANGES` beyond). */
export const MAX_API_CHANGES = 1_000
/** Page size of the paged API routes when `limit` is not given, in items. */
export const DEFAULT_API_PAGE = 100
/** Largest `limit` the paged API routes accept, in items. */
export const MAX_API_PAGE = 1_000
/** An API request not completed within this many ms gets 408 and its connection is closed. */
export const API_REQUEST_TIMEOUT_MS = 30_000
/** An API client must send its request headers within this many ms. */
export const API_HEADERS_TIMEOUT_MS = 10_000
/** On stop, how long in-flight API requests may take to finish before their connections are cut, in ms. */
export const SHUTDOWN_GRACE_MS = 10_000
/** Default interval of the scheduled purge, in ms (1 hour); 0 in the mesh file turns the schedule off. */
export const DEFAULT_PURGE_INTERVAL_MS = 60 * 60 * 1000
/** Shortest cluster secret the mesh file may name, in bytes. */
export const MIN_SECRET_BYTES = 16
/** Largest mesh file read, in bytes. */
export const MAX_MESH_FILE_BYTES = 1_048_576
/** How often the test-only clock offset file is re-read at most, in ms. */
export const TEST_CLOCK_REREAD_MS = 50
/** How long a CLI client command waits for the API, in ms. */
export const CLI_REQUEST_TIMEOUT_MS = 30_000
