/**
 * Exit codes of `marksync` (docs/operations.md "Exit codes"). Stable: service
 * managers and scripts act on them (e.g. systemd `RestartPreventExitStatus=2 3 4 5`).
 */
export const EXIT = {
  /** Clean stop (SIGTERM/SIGINT) or a successful client command. */
  OK: 0,
  /** Runtime failure: the API or peer port is taken (`EADDRINUSE`), the node's API answered an error, I/O errors. */
  FAILURE: 1,
  /** Bad configuration or usage: invalid mesh file, unknown node, wrong arguments. */
  USAGE: 2,
  /** The data directory is locked by another marksync process (`DATA_DIR_LOCKED`). */
  LOCKED: 3,
  /** The data directory belongs to another node id or a newer store format. */
  DATA_DIR_MISMATCH: 4,
  /** The data directory cannot be opened: no permission, a file, under a file, read-only (`DATA_DIR_UNUSABLE`). */
  DATA_DIR_UNUSABLE: 5
} as const
