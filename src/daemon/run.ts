import { ConfigError, loadNodeConfig, type NodeConfig } from '../config/load.js'
import { formatAddress } from '../config/address.js'
import { isMarksyncError } from '../errors.js'
import { createLogger, LOG_LEVELS, type Logger } from '../log.js'
import { Daemon } from './daemon.js'
import { EXIT } from './exit-codes.js'
import { Replicator } from '../replication/index.js'
import { wallClockFromEnv } from './test-clock.js'

/**
 * `marksync start`: load the node's configuration, run the daemon until SIGTERM or
 * SIGINT, stop cleanly. Resolves with the process exit code (see exit-codes.ts); a
 * second signal while stopping exits at once with 1.
 */
export interface RunOptions {
  configFile: string
  nodeId: string
  env?: Record<string, string | undefined>
  /** Where one-line failure messages go (default stderr). */
  errorOut?: (line: string) => void
  logger?: Logger
}

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
  const { wallClock, testClockFile } = wallClockFromEnv(env)
  if (testClockFile !== undefined) log.warn({ event: 'test-clock', file: testClockFile }, 'TEST-ONLY clock offset file in use')
  const daemon = new Daemon({ config, logger: log, wallClock, createReplicator: options => new Replicator(options) })

  let signalled: (signal: string) => void = () => {}
  const signal = new Promise<string>(resolve => { signalled = resolve })
  let signals = 0
  const onSignal = (name: NodeJS.Signals): void => {
    signals++
    if (signals > 1) {
      log.warn({ event: 'forced-exit', signal: name }, 'second signal while stopping: exiting now')
      process.exit(EXIT.FAILURE)
    }
    signalled(name)
  }
  // A bug that escapes every handler still leaves one JSON line saying why the node died.
  const onCrash = (err: unknown): void => {
    log.fatal({ event: 'crash', err }, 'uncaught error: exiting')
    process.exit(EXIT.FAILURE)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  try {
    try {
      await daemon.start()
    } catch (err) {
      return startFailure(err, config, log, errorOut)
    }
    const name = await signal
    await daemon.stop(name)
    return EXIT.OK
  } finally {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
  }
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
