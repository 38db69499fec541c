import { pino, type DestinationStream, type Logger } from 'pino'

/**
 * The daemon's one logger: JSON lines on stdout, one per event that matters, each
 * with an `event` field (starting, ready, peer-connected, purge, stop...; the list is
 * in docs/operations.md "Log events") so tools can match on it instead of on prose.
 * Libraries (store, replicator) emit events; only the daemon logs them.
 */
export type { Logger }

/** The levels `MARKSYNC_LOG_LEVEL` accepts (pino's), most severe first. */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface LoggerOptions {
  nodeId: string
  /** pino level; default `info` (env `MARKSYNC_LOG_LEVEL` overrides). */
  level?: string
  /** Where lines go; default stdout, written synchronously so nothing is lost on exit. */
  destination?: DestinationStream
}

export function createLogger (options: LoggerOptions): Logger {
  const level = options.level ?? process.env.MARKSYNC_LOG_LEVEL ?? 'info'
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true })
  return pino({
    level,
    base: { pid: process.pid, node: options.nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names rather than numbers: operators read these lines too.
    formatters: { level: label => ({ level: label }) }
  }, destination)
}
