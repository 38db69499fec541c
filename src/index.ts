/**
 * marksync as a library, for a mail server written in Node: the same operations as
 * the daemon and its HTTP API, in-process. Typical use: open a `Store`, start a
 * `Replicator` over it (or run a whole node with `Daemon`), call `store.mark()` when
 * a user reads, deletes or receives mail.
 */
export { Store } from './store/index.js'
export type { StatusStore, StoreEvents, StoreOptions, Durability, MarkOptions, PurgeResult, PageOptions, WinnersOptions } from './store/index.js'
export { Replicator } from './replication/index.js'
export type { PeerConfig, PeerStatus, ReplicatorApi, ReplicatorEvents, ReplicatorOptions, TlsFiles } from './replication/index.js'
export { ERROR_CODES, MarksyncError, isErrorCode, isMarksyncError, type ErrorCode } from './errors.js'
export { STATUSES } from './types.js'
export type { Status, LocalChange, Change, LogEntry, MessageState, ApplyResult } from './types.js'
export { HybridClock, physicalMs, packTimestamp, type WallClock } from './hlc.js'
export { checkUser, checkMessage, checkStatus, checkLocalChange } from './validate.js'
export * as limits from './limits.js'
export { loadNodeConfig, checkMeshFile, ConfigError, type NodeConfig } from './config/index.js'
export { Daemon, type DaemonOptions } from './daemon/daemon.js'
export { ApiServer, type ApiServerOptions } from './api/server.js'
export type { ApiBackend } from './api/routes.js'
export { ApiClient } from './cli/client.js'
export { Metrics } from './metrics.js'
export { createLogger } from './log.js'
