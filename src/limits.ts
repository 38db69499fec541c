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

/**
 * Hard cap on how far ahead of this node's clock a received timestamp may be, in ms (1 day).
 * Beyond it the entry is invalid (INVALID_FRAME), not held: no honest clock is a day off,
 * and a hold would last as long as the lead.
 */
export const MAX_TIMESTAMP_LEAD_MS = 24 * 60 * 60 * 1000
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
/** Most ids in the mesh file's `retired` list (hosts retired from the mesh). */
export const MAX_RETIRED_NODES = 1_000
/** How often the test-only clock offset file is re-read at most, in ms. */
export const TEST_CLOCK_REREAD_MS = 50
/** How long a CLI client command waits for the API, in ms. */
export const CLI_REQUEST_TIMEOUT_MS = 30_000

// --- Replication protocol (docs/protocol.md cites these names) ---

/** Wire protocol versions this build speaks, highest preferred. */
export const PROTOCOL_VERSIONS: readonly number[] = [1, 2]
/** Largest WebSocket message (one frame) accepted, in bytes; enforced by ws `maxPayload` before buffering. */
export const MAX_FRAME_BYTES = 1024 * 1024
/** Deepest nesting of arrays and maps accepted in a frame. */
export const MAX_FRAME_DEPTH = 4
/** Longest cluster name, in bytes of UTF-8 (`[A-Za-z0-9._-]`). */
export const MAX_CLUSTER_BYTES = 64
/** Bytes of each handshake nonce. */
export const NONCE_BYTES = 32
/** Most protocol versions one hello may offer. */
export const MAX_OFFERED_VERSIONS = 16
/** Default most entries per replication batch or state-transfer chunk (at most MAX_BATCH_ENTRIES). */
export const DEFAULT_BATCH_ENTRIES = 2_000
/** Default most encoded bytes of entries per batch (kept well under MAX_FRAME_BYTES). */
export const DEFAULT_BATCH_BYTES = 256 * 1024
/** Default unacknowledged batches in flight per peer. */
export const DEFAULT_WINDOW = 4
/** Most unacknowledged batches a receiver queues per session; a sender beyond it is closed (1008). */
export const MAX_WINDOW = 16
/**
 * Default coalescing delay between new entries and the push to peers, in ms. 0: the next turn
 * of the event loop (each group commit is one 'entered' already, and a full window coalesces).
 */
export const DEFAULT_PUSH_DELAY_MS = 0
/** How long a sender holds back a batch that would carry no entry, waiting for one to carry (ms; docs/protocol.md "Feed"). */
export const EMPTY_BATCH_DELAY_MS = 25
/** Default heartbeat interval, in ms. */
export const DEFAULT_HEARTBEAT_MS = 5_000
/** Heartbeat intervals without any frame from a peer before the session is terminated. */
export const HEARTBEAT_MISSES = 3
/** Default time a handshake may take before the socket is closed, in ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
/** First redial delay after a session ends, in ms (doubles per failure, with jitter). */
export const RECONNECT_MIN_MS = 100
/** Longest redial delay, in ms. */
export const RECONNECT_MAX_MS = 30_000
/** Most links one `links` frame may report (one per configured peer of its sender). */
export const MAX_REPORTED_LINKS = 1_024
/**
 * A peer's feed cursor and its peer record are persisted at most this often while acks move
 * them, in ms (the first write after a pause goes at once). Each write is a solo write of the
 * store's queue, with an fsync under `sync` durability: one per ack made changes wait behind them.
 */
export const PEER_STATE_PERSIST_MS = 100
/** A node reports its links to its peers at most this often while only `have` moves, in ms. */
export const LINK_REPORT_MS = 250
/**
 * Left-out batches a relay remembers per (peer, origin) until the peer confirms them; beyond
 * it, that origin's entries are relayed to that peer again (bounded memory, 16 bytes each).
 */
export const MAX_RELAY_PENDING_BLOCKS = 4_096
/** Sender pauses while a socket has more than this many bytes queued (ws `bufferedAmount`). */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

// --- Per-peer budgets (docs/security.md "Budgets" cites these names) ---

/** Most inbound replication sockets at once, handshaking or established; more get HTTP 503 at the upgrade. */
export const MAX_INBOUND_CONNECTIONS = 64
/** Most inbound replication sockets at once that have not authenticated yet; more get HTTP 503. */
export const MAX_PENDING_HANDSHAKES = 16
/** Faults (sessions closed for bad input, failed handshakes, floods) within PEER_FAULT_WINDOW_MS that refuse their source. */
export const PEER_MAX_FAULTS = 20
/** Window over which faults are counted, in ms. */
export const PEER_FAULT_WINDOW_MS = 10_000
/** First refusal of a faulty source, in ms; doubles per repeat. */
export const PEER_BACKOFF_MIN_MS = 1_000
/** Longest refusal of a faulty source, in ms. */
export const PEER_BACKOFF_MAX_MS = 60_000
/** Fault sources (addresses, peer ids) remembered at most; the oldest are forgotten first. */
export const MAX_TRACKED_FAULT_SOURCES = 4_096
/**
 * Frames per second a peer may sustain on one session, batches and state chunks not
 * counted (the window bounds those); honest acks, pings and pongs stay far below it.
 */
export const PEER_FRAME_RATE = 20_000
/** Frames a peer may send at once before PEER_FRAME_RATE applies. */
export const PEER_FRAME_BURST = 40_000
/** A session whose unsent bytes exceed this (a peer not reading its pongs and acks) is cut, in bytes. */
export const MAX_SESSION_BUFFERED_BYTES = 16 * 1024 * 1024
/**
 * Most TCP connections the replication listener holds at once, upgraded or not (sessions
 * count too); more are dropped by the OS-level accept. A socket that has not sent its
 * upgrade request within the handshake timeout is closed.
 */
export const MAX_INBOUND_SOCKETS = 128
/**
 * A wall clock step larger than this against the monotonic clock, either way, counts as a clock
 * jump, in ms; a step forward is compensated in the stamping correction (src/hlc.ts).
 */
export const CLOCK_JUMP_MS = 1_000
/**
 * After a start, local writes of a node with peers wait at most this long for the first
 * verdict of its peers on its clock (docs/protocol.md "Clock check at start"), in ms; then
 * they go ahead on the wall clock (a node none of whose peers is reachable).
 */
export const CLOCK_CHECK_TIMEOUT_MS = 5_000
/**
 * Changes remembered by identity after they were entered, so a copy arriving over a second
 * path is dropped before the store (about 100 bytes each: ~6.5 MB).
 */
export const RECENT_CHANGES = 65_536

/** Newest feed entries the store keeps in memory, so readers that keep up read no LevelDB (~300 bytes each: ~5 MB). */
export const RECENT_FEED_ENTRIES = 16_384

/** Most changes the store group-commits into one LevelDB batch (many waiting callers, one fsync). */
export const MAX_GROUP_COMMIT_ENTRIES = 20_000
/** Feed entries the store deletes per purge batch, so a purge holds bounded memory and lets writes in between. */
export const PURGE_CHUNK_ENTRIES = 1_000
/** Winners the store keeps in memory (least recently used out), so most writes need no read first. About 200 bytes each. */
export const WINNER_CACHE_ENTRIES = 100_000
/**
 * Recent feed seqs for which the store remembers whether a later entry beat theirs, so
 * senders skip superseded entries (one bit each: 2 MiB).
 */
export const SUPERSEDED_WINDOW_SEQS = 16_777_216
/** Per-user unread counts the store keeps in memory (least recently used out). */
export const COUNT_CACHE_ENTRIES = 100_000

/** Default `heapGrowingPercent`: V8's old space grows to 2 × the live heap (by itself up to 4 ×); 0..300. */
export const DEFAULT_HEAP_GROWING_PERCENT = 100; export const MAX_HEAP_GROWING_PERCENT = 300

// --- LevelDB's native memory (docs/operations.md "Memory" cites these names) ---

/** Default `leveldbMaxOpenFiles`: tables LevelDB keeps open, each mapped into memory (+10 files of its own). */
export const DEFAULT_LEVELDB_MAX_OPEN_FILES = 1_000
/** Range of `leveldbMaxOpenFiles`, LevelDB's own (it clips to it silently). */
export const MIN_LEVELDB_MAX_OPEN_FILES = 74; export const MAX_LEVELDB_MAX_OPEN_FILES = 50_000
/** Default `leveldbCacheSize`: uncompressed blocks kept after reads, in bytes; at most MAX_LEVELDB_CACHE_BYTES (0 allowed). */
export const DEFAULT_LEVELDB_CACHE_BYTES = 8 * 1024 * 1024; export const MAX_LEVELDB_CACHE_BYTES = 1024 * 1024 * 1024
/** Default `leveldbWriteBufferSize`: one memtable (up to two at once), in bytes; range 64 KiB (LevelDB's) to 64 MiB. */
export const DEFAULT_LEVELDB_WRITE_BUFFER_BYTES = 4 * 1024 * 1024
export const MIN_LEVELDB_WRITE_BUFFER_BYTES = 64 * 1024; export const MAX_LEVELDB_WRITE_BUFFER_BYTES = 64 * 1024 * 1024

// --- Node-wide change feed, `GET /v1/changes` (docs/operations.md cites these names) ---

/** Longest a `GET /v1/changes?wait=` long-poll holds the request when nothing is new, in ms. */
export const MAX_CHANGES_WAIT_MS = 25_000

// --- Status page and admin routes (docs/operations.md cites these names) ---

/** How often the daemon samples its counters for the throughput figures of /v1/status, in ms. */
export const RATE_SAMPLE_MS = 1_000
/** Span the throughput figures of /v1/status average over, in ms. */
export const RATE_WINDOW_MS = 60_000
/** Origins (node ids) the status keeps "last seen" figures for; more are not tracked. */
export const MAX_TRACKED_ORIGINS = 1_024
/** How often the status page fetches /v1/status, in ms. */
export const STATUS_PAGE_REFRESH_MS = 2_000
/** Most discarded changes, and most entered ones, `explain` / the history route shows per message. */
export const MAX_HISTORY_ROWS = 1_000
/** Most entries of a user's log the history route reads to find one message's entered changes. */
export const MAX_HISTORY_LOG_SCAN = 100_000
/** A peer's measured clock offset is recorded for `explain` when it moved by this much, in ms... */
export const OFFSET_SAMPLE_DELTA_MS = 100
/** ...or when the last record is this old, in ms; a record answers for times this close to it. */
export const OFFSET_SAMPLE_MAX_AGE_MS = 60_000
/** Offset records kept per peer (a day at one a minute); the oldest are dropped first. */
export const MAX_OFFSET_SAMPLES = 1_440
/** Unread messages `mark-all` reads and marks per durable store call (one call per chunk). */
export const MARK_ALL_CHUNK = 1_000
/** Longest line `marksync import` accepts, in bytes (a valid change is well under 2 KiB). */
export const MAX_IMPORT_LINE_BYTES = 8_192
/** Bytes of changes `marksync import` sends per request, kept under MAX_API_BODY_BYTES. */
export const IMPORT_REQUEST_BYTES = 512 * 1024

// --- Anti-entropy (docs/protocol.md §7a and docs/operations.md "Anti-entropy" cite these names) ---

/** Buckets users are hashed into for the digest exchange (a power of 2; 8 bytes each on the wire). */
export const DIGEST_BUCKETS = 4_096
/** Bytes of a user digest, a bucket hash and the root (a truncated SHA-256). */
export const DIGEST_BYTES = 8
/** Default time between two digest rounds of a node with each peer, in ms; 0 turns the periodic rounds off. */
export const DEFAULT_ANTI_ENTROPY_INTERVAL_MS = 10 * 60_000
/** Each periodic round starts up to this fraction of the interval early or late, so peers do not align. */
export const ANTI_ENTROPY_JITTER = 0.1
/** Most user digests in one `ae-digests` answer. */
export const DIGEST_PAGE_USERS = 2_000
/** Most users one `ae-pull` names. */
export const DIGEST_PULL_USERS = 500
/** How long a digest request may wait for its answer before the round is given up, in ms. */
export const DIGEST_REQUEST_TIMEOUT_MS = 60_000
/** Digest requests a responder queues per session; a requester sending more is closed (WINDOW_EXCEEDED). */
export const MAX_DIGEST_REQUESTS = 4

// --- Dovecot bridge (docs/dovecot.md cites these names) ---

/** Default interval of the bridge's CONDSTORE catch-up of every known mailbox (safety net), in ms. */
export const DEFAULT_BRIDGE_CATCH_UP_MS = 5 * 60_000
/** Shortest `catchUpInterval` of the `dovecot` section, in ms. */
export const MIN_BRIDGE_CATCH_UP_MS = 1_000
/** IMAP sessions the bridge keeps open at most (one per user, least recently used closed first). */
export const MAX_BRIDGE_SESSIONS = 32
/** Feed entries the bridge applies per round (grouped into UID STOREs per user and mailbox). */
export const BRIDGE_FEED_BATCH = 1_000
/**
 * Winners the bridge reads in one `getMany` (a batch of the feed, a mailbox read): one trip to
 * LevelDB's thread for many keys costs ~3 us of CPU a key against ~15 for a `get` each
 * (docs/dovecot.md "Performance").
 */
export const BRIDGE_WINNER_READS = 256
/** UIDs per `UID STORE` command at most (keeps command lines short). */
export const BRIDGE_STORE_UIDS = 500
/** The spool file is moved to `<spool>.1` by the bridge once it is larger than this, in bytes. */
export const MAX_SPOOL_BYTES = 16 * 1024 * 1024
/** Longest spool line read; longer lines are skipped and counted, in bytes. */
export const MAX_SPOOL_LINE_BYTES = 8 * 1024
/** How often the bridge checks the spool file besides file-system notifications, in ms. */
export const SPOOL_POLL_MS = 500
/** After a rotation, how long the old spool file is still read for late writers, in ms. */
export const SPOOL_ROTATE_GRACE_MS = 2_000
/** First retry delay after Dovecot failed (doubles up to BRIDGE_RETRY_MAX_MS), in ms. */
export const BRIDGE_RETRY_MIN_MS = 100
/** Longest retry delay after Dovecot failed, in ms. */
export const BRIDGE_RETRY_MAX_MS = 5_000
/** A Dovecot IMAP connect or command that takes longer than this fails, in ms. */
export const BRIDGE_IMAP_TIMEOUT_MS = 15_000
/** Longest master password file read, in bytes. */
export const MAX_MASTER_PASSWORD_BYTES = 1_024

// --- Store faults (docs/storage.md "Store faults") ---

/** How often a failing store tries to reopen itself, in ms. */
export const STORE_RECOVERY_INTERVAL_MS = 1_000
/**
 * Free bytes the data directory's filesystem must have before a store that failed with
 * DISK_FULL tries to reopen: LevelDB needs room for a new log and a memtable flush (4 MiB each).
 */
export const STORE_RECOVERY_MIN_FREE_BYTES = 16 * 1024 * 1024
