import { ConfigError, loadNodeConfig } from '../config/load.js'
import { isMarksyncError } from '../errors.js'
import { createLogger, type Logger } from '../log.js'
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
  const log = options.logger ?? createLogger({ nodeId: options.nodeId })
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
      return startFailure(err, config.node.dataDir, log, errorOut)
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

function startFailure (err: unknown, dataDir: string, log: Logger, errorOut: (line: string) => void): number {
  const code = isMarksyncError(err) ? err.code : (err as NodeJS.ErrnoException).code
  log.error({ event: 'start-failed', code, err }, 'start failed')
  if (code === 'DATA_DIR_LOCKED') {
    errorOut(`marksync: data directory ${dataDir} is locked: another marksync process is using it (DATA_DIR_LOCKED)`)
    return EXIT.LOCKED
  }
  if (code === 'NODE_ID_MISMATCH' || code === 'STORE_VERSION') {
    errorOut(`marksync: data directory ${dataDir} cannot be used: ${(err as Error).message} (${code})`)
    return EXIT.DATA_DIR_MISMATCH
  }
  if (code === 'EADDRINUSE') {
    errorOut(`marksync: address in use: ${(err as Error).message} (EADDRINUSE)`)
    return EXIT.FAILURE
  }
  errorOut(`marksync: start failed: ${(err as Error).message}${code !== undefined ? ` (${String(code)})` : ''}`)
  return EXIT.FAILURE
}
