import { UsageError } from './target.js'

/**
 * Command-line wording that says what to do, instead of yargs' own: its messages are
 * replaced (updateStrings) and ids after `--` are taken literally, so a message id that
 * starts with "-" can be given (`marksync mark alice --status read -- -odd-id`).
 */
// Typed as yargs' updateStrings() wants it; its types omit the singular/plural objects it accepts.
export const YARGS_STRINGS = {
  'Not enough non-option arguments: got %s, need at least %s': {
    one: 'missing arguments: got %s, need at least %s',
    other: 'missing arguments: got %s, need at least %s'
  },
  'Too many non-option arguments: got %s, maximum of %s': {
    one: 'too many arguments: got %s, at most %s',
    other: 'too many arguments: got %s, at most %s'
  },
  'Missing required argument: %s': { one: 'missing option --%s', other: 'missing options: %s' },
  'Missing argument value: %s': { one: 'option --%s needs a value', other: 'options %s need a value' },
  'Not enough arguments following: %s': 'option --%s needs a value',
  'Unknown argument: %s': {
    one: 'unknown command or option: %s (an id starting with "-" goes after "--")',
    other: 'unknown commands or options: %s (an id starting with "-" goes after "--")'
  },
  'Invalid values:': 'invalid value:',
  'Argument: %s, Given: %s, Choices: %s': '--%s %s is not one of %s'
} as unknown as Record<string, string>

/** Where the words after `--` go: the message ids of `mark`, the one message id of `get`, or nowhere. */
export type Literal = 'messages' | 'message' | 'none'

interface LiteralArgs { '--'?: unknown[], messages?: unknown[], message?: unknown }

/** The arguments with the words after `--` in their place; a word with no place is an error, never dropped. */
export function takeLiteralIds<T extends LiteralArgs> (args: T, literal: Literal): T {
  const words = (args['--'] ?? []).map(String)
  if (literal === 'messages') {
    const messages = [...(args.messages ?? []).map(String), ...words]
    if (messages.length === 0) throw new UsageError('give at least one message id after the user')
    return { ...args, messages }
  }
  if (literal === 'message') {
    const given = args.message === undefined ? words : [String(args.message), ...words]
    if (given.length !== 1) throw new UsageError(given.length === 0 ? 'give the message id after the user' : `one message id only, got ${given.length}: ${given.join(' ')}`)
    return { ...args, message: given[0] }
  }
  if (words.length > 0) throw new UsageError(`nothing is taken after "--" here, got: ${words.join(' ')}`)
  return args
}

/** One line for a yargs failure: the message joined, then the usage of the command that failed. */
export function usageFailure (message: string, usage: unknown): UsageError {
  const oneLine = message.replace(/\s*\n\s*/g, ' ').trim()
  const help = (usage as { help?: () => unknown } | undefined)?.help?.()
  const first = typeof help === 'string' ? help.split('\n')[0] : undefined
  return new UsageError(first !== undefined && first !== '' ? `${oneLine}\nusage: ${first}` : oneLine)
}
