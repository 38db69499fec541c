import yargs from 'yargs'
import { isMarksyncError } from '../errors.js'
import { EXIT } from '../daemon/exit-codes.js'
import { processIo, type Io } from './io.js'
import { UsageError } from './target.js'
import { takeLiteralIds, usageFailure, YARGS_STRINGS } from './arguments.js'
import { adminCommands } from './commands/admin-cli.js'
import { meshCommands, messageCommands, nodeCommands, startCommand, type Run } from './command-table.js'
import { packageVersion } from './version.js'

/**
 * The `marksync` command line (yargs). `main` resolves with the exit code instead of
 * exiting, so bin/marksync.js stays a two-liner and tests can call it in-process.
 * Exit codes: src/daemon/exit-codes.ts, docs/operations.md "Exit codes".
 */
const EPILOGUE = 'Client commands reach a node by --api URL (or host:port), or --config FILE --node ID, or $MARKSYNC_API; ' +
  'the token comes from --token, $MARKSYNC_API_TOKEN or the mesh file. Docs: docs/operations.md'

export async function main (argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.OK
  const run: Run = (fn, literal = 'none') => async args => { code = await fn(takeLiteralIds(args, literal)) }
  let parser = yargs(argv)
    .scriptName('marksync')
    // Ids are strings ("007" stays "007"); words after "--" are kept apart (ids that start with "-"), never dropped.
    .parserConfiguration({ 'parse-positional-numbers': false, 'populate--': true })
    .updateStrings(YARGS_STRINGS)
    .usage('$0 <command> [options]\n\nReplicates the status of mail messages (read, unread, deleted) between mail hosts.')
  parser = meshCommands(adminCommands(nodeCommands(messageCommands(startCommand(parser, run), run, io), run, io), run, io), run, io)
  parser = parser
    .demandCommand(1, 'give a command (see --help)')
    .strict()
    .epilogue(EPILOGUE)
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, err, usage) => { throw err ?? usageFailure(message, usage) })
  try {
    await parser.parseAsync()
  } catch (err) {
    return failed(err, io)
  }
  return code
}

/** One clear message on stderr and the exit code for an error that ended a command. */
function failed (err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.err(`marksync: ${err.message}\n(marksync --help lists the commands; marksync COMMAND --help its options)`)
    return EXIT.USAGE
  }
  if (isMarksyncError(err)) {
    io.err(`marksync: ${err.message} (${err.code})`)
    return EXIT.FAILURE
  }
  io.err(`marksync: ${(err as Error).stack ?? String(err)}`)
  return EXIT.FAILURE
}
