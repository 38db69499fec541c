import { ConfigError, loadNodeConfig, type NodeConfig } from '../config/load.js'
import { formatAddress } from '../config/address.js'
import { isMarksyncError } from '../errors.js'
import { createLogger, LOG_LEVELS, type Logger } from '../log.js'
import { Daemon } from './daemon.js'
import { EXIT } from './exit-codes.js'
import { applyHeapGrowingPercent } from './heap-growth.js'
import { Replicator } from '../replication/index.js'
import { wallClockFromEnv } from './test-clock.js'

/**
 * `marksync start`: load the node's configuration, run the daemon until SIGTERM, SIGINT
 * or SIGHUP (or, with `exitWithStdin`, the end of stdin), stop cleanly. Resolves with
 * the process exit code (see exit-codes.ts); a second signal while stopping exits at
 * once with 1.
 */
export interface RunOptions {
  configFile: string
  nodeId: string
  env?: Record<string, string | undefined>
  /** Where one-line failure messages go (default stderr). */
  errorOut?: (line: string) => void
  logger?: Logger
  /**
   * Stop cleanly when stdin ends: a supervisor (`marksync demo`) holds the other end of a
   * pipe, so its death, even by SIGKILL, ends the node instead of leaving it running.
   */
  exitWithStdin?: boolean
}

/** The signals that stop the node cleanly (SIGHUP: its terminal closed). */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP']

export async function runDaemon (options: RunOptions): Promise<number> {
  const env = options.env ?? process.env
  const errorOut = options.errorOut ?? ((line: string) => { process.stderr.write(line + '\n') })
  const level = env.MARKSYNC_LOG_LEVEL === '' ? undefined : env.MARKSYNC_LOG_LEVEL
  if (level !== undefined && !LOG_LEVELS.includes(level)) {
    errorOut(`marksync: MARKSYNC_LOG_LEVEL="${level}" is not a log level: use one of ${LOG_LEVELS.join(', ')}, or unset it for info`)
    return EXIT.USAGE
  }
  const log = options.logger ?? createLogger({ nodeId: options.nodeId, level: level ?? 'info' })
  let config
  try {
    config = loadNodeConfig(options.configFile, options.nodeId, env)
  } catch (err) {
    if (err instanceof ConfigError) {
      errorOut(`marksync: invalid configuration ${err.message}`)
      log.error({ event: 'start-failed', code: err.code, problems: err.problems }, 'invalid configuration')
      return EXIT.USAGE
    }
    throw err
  }
  applyHeapGrowingPercent(config.node.settings.heapGrowingPercent)
  const { wallClock, testClockFile } = wallClockFromEnv(env)
  if (testClockFile !== undefined) log.warn({ event: 'test-clock', file: testClockFile }, 'TEST-ONLY clock offset file in use')
  const daemon = new Daemon({ config, logger: log, wallClock, createReplicator: options => new Replicator(options) })
  return await runUntilStopped(daemon, config, log, errorOut, options.exitWithStdin === true)
}

async function runUntilStopped (daemon: Daemon, config: NodeConfig, log: Logger, errorOut: (line: string) => void, exitWithStdin: boolean): Promise<number> {
  const stop = stopTriggers(log, exitWithStdin)
  try {
    try {
      await daemon.start()
    } catch (err) {
      return startFailure(err, config, log, errorOut)
    }
    const reason = await stop.reason
    await daemon.stop(reason)
    return EXIT.OK
  } finally {
    stop.release()
  }
}

/** What ends a running node: a stop signal, the end of stdin (if asked), or a crash (exit 1). */
function stopTriggers (log: Logger, exitWithStdin: boolean): { reason: Promise<string>, release: () => void } {
  let stopWith: (reason: string) => void = () => {}
  const reason = new Promise<string>(resolve => { stopWith = resolve })
  let signals = 0
  const onSignal = (name: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn({ event: 'forced-exit', signal: name }, 'second signal while stopping: exiting now')
      process.exit(EXIT.FAILURE)
    }
    stopWith(name)
  }
  // A bug that escapes every handler still leaves one JSON line saying why the node died.
  const onCrash = (err: unknown): void => {
    log.fatal({ event: 'crash', err }, 'uncaught error: exiting')
    process.exit(EXIT.FAILURE)
  }
  const onStdinEnd = (): void => stopWith('stdin-closed')
  for (const name of STOP_SIGNALS) process.on(name, onSignal)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  if (exitWithStdin) process.stdin.on('end', onStdinEnd).on('error', onStdinEnd).resume()
  const release = (): void => {
    for (const name of STOP_SIGNALS) process.off(name, onSignal)
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
    // A stdin still open would keep the process alive after the stop.
    if (exitWithStdin) process.stdin.off('end', onStdinEnd).off('error', onStdinEnd).destroy()
  }
  return { reason, release }
}

function startFailure (err: unknown, config: NodeConfig, log: Logger, errorOut: (line: string) => void): number {
  const code = isMarksyncError(err) ? err.code : (err as NodeJS.ErrnoException).code
  const dataDir = config.node.dataDir
  log.error({ event: 'start-failed', code, err }, 'start failed')
  if (code === 'DATA_DIR_LOCKED') {
    errorOut(`marksync: data directory ${dataDir} is locked: another marksync process is using it (DATA_DIR_LOCKED)`)
    return EXIT.LOCKED
  }
  if (code === 'NODE_ID_MISMATCH' || code === 'STORE_VERSION') {
    errorOut(`marksync: data directory ${dataDir} cannot be used: ${(err as Error).message} (${code})`)
    return EXIT.DATA_DIR_MISMATCH
  }
  if (code === 'DATA_DIR_UNUSABLE') {
    errorOut(`marksync: ${(err as Error).message}; fix the directory or "dataDir" of node ${config.node.id} (DATA_DIR_UNUSABLE)`)
    return EXIT.DATA_DIR_UNUSABLE
  }
  if (code === 'EADDRINUSE') {
    errorOut(`marksync: ${addressInUse(err as NodeJS.ErrnoException & { port?: number }, config)} (EADDRINUSE)`)
    return EXIT.FAILURE
  }
  errorOut(`marksync: start failed: ${(err as Error).message}${code !== undefined ? ` (${String(code)})` : ''}`)
  return EXIT.FAILURE
}

/** Which of the node's two listening addresses is taken, and which key of the mesh file sets it. */
function addressInUse (err: NodeJS.ErrnoException & { port?: number, address?: string }, config: NodeConfig): string {
  const { api, listen, id } = config.node
  const which = err.port === api.port && err.address === api.host
    ? { what: 'API address', address: formatAddress(api), key: '"api"' }
    : { what: 'peer address', address: formatAddress(listen), key: '"listen" (or the port of "peerUrl")' }
  return `the ${which.what} ${which.address} of node ${id} is already in use by another process: stop it, or change ${which.key} of node ${id} in the mesh file`
}
