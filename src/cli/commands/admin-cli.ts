import type { Argv } from 'yargs'
import { targetOptions, type Run } from '../command-table.js'
import type { Io } from '../io.js'
import * as admin from './admin-commands.js'

/** mark-all, explain, export, import: the admin commands, declared for yargs (see command-table.ts). */
export function adminCommands (parser: Argv, run: Run, io: Io): Argv {
  return parser
    .command('mark-all <user>', 'mark every unread message of a user read (or deleted), optionally only those older than a time', y => targetOptions(y
      .positional('user', { type: 'string', describe: 'user id' })
      .option('status', { alias: 's', choices: ['read', 'deleted'], demandOption: true, describe: 'the new status' })
      .option('before', { type: 'string', describe: 'only messages that became unread before this time (ISO 8601, or ms since the epoch)' })
      .example('$0 mark-all alice --status read --before 2026-11-01T00:00:00Z', 'mark alice\'s unread mail from before November read')),
    run(async args => await admin.markAll({ ...args, user: String(args.user) }, io)))
    .command('explain <user> [message]', 'every change this node saw for a message, entered or discarded, and why it won or lost', y => targetOptions(y
      .usage('$0 explain <user> <message>')
      .positional('user', { type: 'string', describe: 'user id' })
      .positional('message', { type: 'string', describe: 'message id (after "--" if it starts with "-")' })
      .example('$0 explain alice "<id@host>" --config mesh.json --node mx1', 'why is this message unread again?')),
    run(async args => await admin.explain({ ...args, user: String(args.user), message: String(args.message) }, io), 'message'))
    .command('export', 'write every current status (winner) with its stamp as NDJSON: backup, migration, seeding', y => targetOptions(y
      .option('output', { alias: 'o', type: 'string', describe: 'write to this new file instead of stdout' })),
    run(async args => await admin.exportWinners(args, io)))
    .command('import <file>', 'apply an export file with the normal precedence: nothing newer is overwritten', y => targetOptions(y
      .positional('file', { type: 'string', describe: 'an NDJSON file written by marksync export' })),
    run(async args => await admin.importWinners({ ...args, file: String(args.file) }, io)))
}
