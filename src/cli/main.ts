import yargs, { type Argv } from 'yargs'
import { STATUSES, type Status } from '../types.js'
import { isMarksyncError } from '../errors.js'
import { EXIT } from '../daemon/exit-codes.js'
import { configCheck } from './commands/config-check.js'
import * as client from './commands/client-commands.js'
import { processIo, type Io } from './io.js'
import { UsageError } from './target.js'

/**
 * The `marksync` command line (yargs). `main` resolves with the exit code instead of
 * exiting, so bin/marksync.js stays a two-liner and tests can call it in-process.
 * Exit codes: src/daemon/exit-codes.ts, docs/operations.md "Exit codes".
 */
const EPILOGUE = 'Client commands reach a node by --api URL, or --config FILE --node ID, or $MARKSYNC_API; the token comes from --token, $MARKSYNC_API_TOKEN or the mesh file. Docs: docs/operations.md'

function targetOptions (y: Argv): Argv {
  return y
    .option('api', { type: 'string', describe: 'the node\'s API URL, e.g. http://127.0.0.1:7801', group: 'Node:' })
    .option('config', { alias: 'c', type: 'string', describe: 'mesh file: take the API address (and token) of --node from it', group: 'Node:' })
    .option('node', { alias: 'n', type: 'string', describe: 'node id in the mesh file', group: 'Node:' })
    .option('token', { type: 'string', describe: 'API bearer token (default $MARKSYNC_API_TOKEN, else from the mesh file)', group: 'Node:' })
    .option('json', { type: 'boolean', default: false, describe: 'print the API\'s JSON answer instead of a summary' })
}

export async function main (argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.OK
  const run = (fn: (args: any) => Promise<number> | number) => async (args: any): Promise<void> => { code = await fn(args) }
  const parser = yargs(argv)
    .scriptName('marksync')
    // Ids are strings: "007" must stay "007".
    .parserConfiguration({ 'parse-positional-numbers': false })
    .usage('$0 <command> [options]\n\nReplicates the status of mail messages (read, unread, deleted) between mail hosts.')
    .command('start', 'run one node of the mesh (the daemon)', y => y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'mesh file (JSON)' })
      .option('node', { alias: 'n', type: 'string', demandOption: true, describe: 'which node of the mesh file this is' })
      .example('$0 start --config /etc/marksync/mesh.json --node mx1', 'run node mx1; logs JSON lines to stdout; SIGTERM stops it cleanly')
      .epilogue('Exit codes: 0 clean stop (SIGTERM/SIGINT), 1 runtime failure, 2 invalid mesh file or usage, 3 data directory locked by another process, 4 data directory of another node or a newer format, 5 data directory cannot be opened (permissions, a file). Environment: MARKSYNC_LOG_LEVEL (default info); MARKSYNC_TEST_CLOCK_OFFSET_FILE is for tests only. See docs/operations.md.'),
    // Loaded on demand: the client commands start faster without the store, replicator and metrics.
    run(async args => await (await import('../daemon/run.js')).runDaemon({ configFile: args.config, nodeId: args.node })))
    .command('mark <user> <messages..>', 'set the status of one or more messages of a user', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .positional('messages', { type: 'string', array: true, describe: 'message ids (one or more)' })
      .option('status', { alias: 's', choices: STATUSES as Status[], demandOption: true, describe: 'the new status' })
      .example('$0 mark alice msg-1 msg-2 --status read --api http://127.0.0.1:7801', 'mark two messages read')),
    run(async args => await client.mark({ ...args, user: String(args.user), messages: (args.messages as unknown[]).map(String) }, io)))
    .command('unread <user>', 'list a user\'s unread messages (paged) and their count', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .option('limit', { type: 'number', describe: 'page size (default 100, at most 1000)' })
      .option('after', { type: 'string', describe: 'start after this message id (the "next" of the previous page)' })),
    run(async args => await client.unread({ ...args, user: String(args.user) }, io)))
    .command('get <user> <message>', 'show one message\'s status with its origin, timestamp, origin and local clock times', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .positional('message', { type: 'string', describe: 'message id' })),
    run(async args => await client.get({ ...args, user: String(args.user), message: String(args.message) }, io)))
    .command('log <user>', 'show a user\'s log of changes on this node (paged)', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .option('limit', { type: 'number', describe: 'page size (default 100, at most 1000)' })
      .option('after', { type: 'number', describe: 'start after this sequence number' })),
    run(async args => await client.log({ ...args, user: String(args.user) }, io)))
    .command('status', 'show the node and a table of its peers: connected, entries behind, last ack, clock offset, skewed', y => targetOptions(y),
      run(async args => await client.status(args, io)))
    .command('purge', 'remove log entries older than the retention now (winners stay)', y => targetOptions(y),
      run(async args => await client.purge(args, io)))
    .command('config', 'work with mesh files', y => y
      .command('check <file>', 'validate a mesh file: every problem with its JSON path; exit 0 if valid, 1 if not', c => c
        .positional('file', { type: 'string', describe: 'mesh file (JSON)' })
        .option('node', { alias: 'n', type: 'string', describe: 'check the secret, token and TLS files of this node only (those present on this host)' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
      run(args => configCheck({ file: String(args.file), node: args.node, json: args.json }, io)))
      .demandCommand(1, 'config needs a subcommand: config check FILE'))
    .command('demo', 'start a three-node mesh on loopback (data in ./demo-data); Ctrl-C stops it', y => y
      .option('dir', { type: 'string', default: 'demo-data', describe: 'directory for the mesh file, secret, data and logs' }),
    run(async args => await (await import('./commands/demo.js')).demo({ dir: args.dir }, io)))
    .demandCommand(1, 'give a command (see --help)')
    .strict()
    .epilogue(EPILOGUE)
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new UsageError(message)
    })
  try {
    await parser.parseAsync()
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`marksync: ${err.message}\n(see marksync --help)`)
      return EXIT.USAGE
    }
    if (isMarksyncError(err)) {
      io.err(`marksync: ${err.message} (${err.code})`)
      return EXIT.FAILURE
    }
    io.err(`marksync: ${(err as Error).stack ?? String(err)}`)
    return EXIT.FAILURE
  }
  return code
}
