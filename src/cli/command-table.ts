import type { Argv } from 'yargs'
import { STATUSES, type Status } from '../types.js'
import { configCheck } from './commands/config-check.js'
import * as client from './commands/client-commands.js'
import { repair } from './commands/repair.js'
import type { Io } from './io.js'
import type { Literal } from './arguments.js'

/**
 * The commands of `marksync`, declared for yargs. `run` wraps a handler: it places the
 * words after "--" (see arguments.ts) and records the handler's exit code.
 */
// yargs hands each command its own parsed-arguments shape; the table cannot name them all.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Run = (fn: (args: any) => Promise<number> | number, literal?: Literal) => (args: any) => Promise<void>

const START_EPILOGUE = 'Exit codes: 0 clean stop (SIGTERM/SIGINT/SIGHUP), 1 runtime failure (a port in use), 2 invalid mesh file or usage, ' +
  '3 data directory locked by another process, 4 data directory of another node or a newer format, ' +
  '5 data directory cannot be opened (permissions, a file). Environment: MARKSYNC_LOG_LEVEL (default info); ' +
  'MARKSYNC_TEST_CLOCK_OFFSET_FILE is for tests only. See docs/operations.md.'

export function targetOptions (y: Argv): Argv {
  return y
    .option('api', { type: 'string', describe: 'the node\'s API: a URL (http://127.0.0.1:7801) or host:port as in the mesh file', group: 'Node:' })
    .option('config', { alias: 'c', type: 'string', describe: 'mesh file: take the API address (and token) of --node from it', group: 'Node:' })
    .option('node', { alias: 'n', type: 'string', describe: 'node id in the mesh file', group: 'Node:' })
    .option('token', { type: 'string', describe: 'API bearer token (default $MARKSYNC_API_TOKEN, else from the mesh file)', group: 'Node:' })
    .option('json', { type: 'boolean', default: false, describe: 'print the API\'s JSON answer instead of a summary' })
}

/** start: the daemon. */
export function startCommand (parser: Argv, run: Run): Argv {
  return parser
    .command('start', 'run one node of the mesh (the daemon)', y => y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'mesh file (JSON)' })
      .option('node', { alias: 'n', type: 'string', demandOption: true, describe: 'which node of the mesh file this is' })
      .option('exit-with-stdin', { type: 'boolean', default: false, describe: 'stop cleanly when stdin ends (for a supervisor holding a pipe, as marksync demo does)' })
      .example('$0 start --config /etc/marksync/mesh.json --node mx1', 'run node mx1; logs JSON lines to stdout; SIGTERM stops it cleanly')
      .epilogue(START_EPILOGUE),
    // Loaded on demand: the client commands start faster without the store, replicator and metrics.
    run(async args => await (await import('../daemon/run.js')).runDaemon({ configFile: args.config, nodeId: args.node, exitWithStdin: args.exitWithStdin })))
}

/** config check, demo: mesh files and a mesh on loopback. */
export function meshCommands (parser: Argv, run: Run, io: Io): Argv {
  return parser
    .command('config', 'work with mesh files', y => y
      .command('check <file>', 'validate a mesh file: every problem with its JSON path; exit 0 if valid, 1 if not', c => c
        .positional('file', { type: 'string', describe: 'mesh file (JSON)' })
        .option('node', { alias: 'n', type: 'string', describe: 'check the secret, token and TLS files of this node only (those present on this host)' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
      run(args => configCheck({ file: String(args.file), node: args.node, json: args.json }, io)))
      .demandCommand(1, 'config needs a subcommand: config check FILE'))
    .command('demo', 'start a three-node mesh on loopback (data in ./demo-data); Ctrl-C stops it', y => y
      .option('dir', { type: 'string', default: 'demo-data', describe: 'directory for the mesh file, secret, data and logs' })
      .option('dovecot', { type: 'boolean', default: false, describe: 'also start a Dovecot per node with its bridge (needs root and dovecot-imapd); prints the IMAP logins' }),
    run(async args => await (await import('./commands/demo.js')).demo({ dir: args.dir, dovecot: args.dovecot }, io)))
}

/** mark, get: the commands that write or read single messages. */
export function messageCommands (parser: Argv, run: Run, io: Io): Argv {
  return parser
    .command('mark <user> [messages..]', 'set the status of one or more messages of a user', y => targetOptions(y
      .usage('$0 mark <user> <messages..> --status read|unread|deleted')
      .positional('user', { type: 'string', describe: 'user id' })
      .positional('messages', { type: 'string', array: true, describe: 'message ids (one or more; after "--" if one starts with "-")' })
      .option('status', { alias: 's', choices: STATUSES as Status[], demandOption: true, describe: 'the new status' })
      .example('$0 mark alice msg-1 msg-2 --status read --api http://127.0.0.1:7801', 'mark two messages read')
      .example('$0 mark alice --status read --api 127.0.0.1:7801 -- -odd-id', 'an id that starts with "-" goes after "--"')),
    run(async args => await client.mark({ ...args, user: String(args.user), messages: (args.messages as unknown[]).map(String) }, io), 'messages'))
    .command('get <user> [message]', 'show one message\'s status with its origin, timestamp, origin and local clock times', y => targetOptions(y
      .usage('$0 get <user> <message>')
      .positional('user', { type: 'string', describe: 'user id' })
      .positional('message', { type: 'string', describe: 'message id (after "--" if it starts with "-")' })),
    run(async args => await client.get({ ...args, user: String(args.user), message: String(args.message) }, io), 'message'))
}

/** unread, log, status, purge, repair: the commands that read a user's lists or the node. */
export function nodeCommands (parser: Argv, run: Run, io: Io): Argv {
  return parser
    .command('unread <user>', 'list a user\'s unread messages (paged) and their count', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .option('limit', { type: 'number', describe: 'page size (default 100, at most 1000)' })
      .option('after', { type: 'string', describe: 'start after this message id (the "next" of the previous page)' })),
    run(async args => await client.unread({ ...args, user: String(args.user) }, io)))
    .command('log <user>', 'show a user\'s log of changes on this node (paged)', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .option('limit', { type: 'number', describe: 'page size (default 100, at most 1000)' })
      .option('after', { type: 'number', describe: 'start after this sequence number' })),
    run(async args => await client.log({ ...args, user: String(args.user) }, io)))
    .command('status', 'show the node and its peers: connected, lag in entries and time, clock offset, skewed, last error', y => targetOptions(y)
      .option('check', { type: 'boolean', default: false, describe: 'for monitoring: one line, exit 0 OK, 1 WARNING, 2 CRITICAL', group: 'Check:' })
      .option('warn-lag', { type: 'string', describe: 'warn at this peer lag in time (default 60s)', group: 'Check:' })
      .option('crit-lag', { type: 'string', describe: 'critical at this peer lag in time (default 10m)', group: 'Check:' })
      .option('warn-disconnected', { type: 'number', describe: 'warn at this many peers down (default 1)', group: 'Check:' })
      .option('crit-disconnected', { type: 'number', describe: 'critical at this many peers down (default 0: every peer)', group: 'Check:' })
      .option('warn-skewed', { type: 'number', describe: 'warn at this many skewed peers (default 1)', group: 'Check:' })
      .option('crit-skewed', { type: 'number', describe: 'critical at this many skewed peers (default 0: never)', group: 'Check:' }),
    run(async args => args.check === true
      ? await (await import('./commands/status-check.js')).statusCheck(args, io)
      : await (await import('./commands/status.js')).status(args, io)))
    .command('purge', 'remove log entries older than the retention now (winners stay)', y => targetOptions(y),
      run(async args => await client.purge(args, io)))
    .command('repair', 'anti-entropy now: compare winners with every peer (or --peer) by digests and repair what differs, both ways', y => targetOptions(y
      .option('user', { alias: 'u', type: 'string', describe: 'repair this user only (skips the digests)' })
      .option('peer', { alias: 'p', type: 'string', describe: 'with this peer only' })),
    run(async args => await repair({ ...args, user: args.user as string | undefined, peer: args.peer as string | undefined }, io)))
}
