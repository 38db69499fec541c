import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, runCli, startDaemon, writeMesh, type CliResult } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { EXIT } from '../../src/daemon/exit-codes.js'

/**
 * Every CLI error says what to do (docs/operations.md "CLI"): real `marksync` processes
 * against a real daemon with an API token, its peer port and a foreign HTTP server.
 */
const TOKEN = 'api-token-' + 'z'.repeat(24)
const NO_ENV = { MARKSYNC_API: '', MARKSYNC_API_TOKEN: '' }

function oneClearLine (t: Test, r: CliResult, code: number, expected: RegExp, what: string): void {
  t.equal(r.code, code, `${what}: exit ${code}\n${r.stderr}`)
  t.match(r.stderr, expected, what)
  t.notMatch(r.stderr, /\n\s+at |Not enough non-option|Missing required argument|HTTP 4\d\d$/m, `${what}: no stack trace or raw text`)
}

t.test('token, address and argument errors of the CLI', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a'], apiToken: TOKEN })
  await startDaemon(tt, mesh, 'a')
  const a = mesh.nodes.a
  if (a === undefined) throw new Error('no node a')
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => await runCli(args, { env: { ...NO_ENV, ...env } })

  oneClearLine(tt, await cli(['status', '--api', a.api]), EXIT.FAILURE,
    /^marksync: the node at http:\/\/127\.0\.0\.1:\d+ requires its API token: give --token, set MARKSYNC_API_TOKEN, or use --config FILE --node ID .*\(TOKEN_MISSING\)\n$/, 'no token')
  oneClearLine(tt, await cli(['status', '--api', a.api, '--token', 'wrong-token']), EXIT.FAILURE,
    /refused the API token from --token: it is not the node's "apiToken" .*\(TOKEN_REJECTED\)/, 'wrong token from --token')
  oneClearLine(tt, await cli(['status', '--api', a.api], { MARKSYNC_API_TOKEN: 'wrong-token' }), EXIT.FAILURE,
    /refused the API token from MARKSYNC_API_TOKEN/, 'wrong token from the environment')
  oneClearLine(tt, await cli(['status', '--api', `127.0.0.1:${a.peerPort}`, '--token', TOKEN]), EXIT.FAILURE,
    /is a replication \(peer\) port, not the HTTP API: point --api at the node's "api" address .*\(NOT_THE_API\)/, '--api at the peer port')

  const other = createServer((_req, res) => { res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>') })
  await new Promise<void>(resolve => other.listen(0, '127.0.0.1', () => resolve()))
  tt.teardown(async () => await new Promise<void>(resolve => other.close(() => resolve())))
  const otherPort = (other.address() as { port: number }).port
  oneClearLine(tt, await cli(['status', '--api', `http://127.0.0.1:${otherPort}`]), EXIT.FAILURE,
    /answered HTTP 404 and is not a marksync API: point --api at the node's "api" address .*\(NOT_THE_API\)/, '--api at another server')

  const hostPort = await cli(['status', '--api', `127.0.0.1:${a.apiPort}`, '--token', TOKEN])
  tt.equal(hostPort.code, 0, `--api host:port as in the mesh file\n${hostPort.stderr}`)
  tt.match(hostPort.stdout, /^node a \(cluster test\)/)
  oneClearLine(tt, await cli(['status', '--api', 'ftp://x']), EXIT.USAGE, /--api must be http:\/\/HOST:PORT or HOST:PORT/, 'a bad --api')

  const on = ['--api', a.api, '--token', TOKEN]
  const marked = await cli(['mark', 'alice', 'plain', '--status', 'unread', ...on, '--', '-dash-id', '--double'])
  tt.equal(marked.code, 0, marked.stderr)
  tt.match(marked.stdout, /alice plain: unread.*\nalice -dash-id: unread.*\nalice --double: unread/)
  const got = await cli(['get', 'alice', ...on, '--', '-dash-id'])
  tt.equal(got.code, 0, got.stderr)
  tt.match(got.stdout, /^alice -dash-id: unread\n/)
  oneClearLine(tt, await cli(['status', ...on, '--', 'stray']), EXIT.USAGE, /nothing is taken after "--" here, got: stray/, 'words after -- that have no place')
  oneClearLine(tt, await cli(['get', 'alice', 'm1', ...on, '--', 'm2']), EXIT.USAGE, /one message id only, got 2: m1 m2/, 'a second message for get')
  oneClearLine(tt, await cli(['mark', 'alice', '-x', '--status', 'read', ...on]), EXIT.USAGE,
    /unknown command or option: x \(an id starting with "-" goes after "--"\)\nusage: marksync mark/, 'an id starting with - before --')
  oneClearLine(tt, await cli(['mark']), EXIT.USAGE, /^marksync: missing arguments: got 0, need at least 1\nusage: marksync mark <user> <messages\.\.> --status/, 'mark without arguments')
  oneClearLine(tt, await cli(['mark', 'alice', '--status', 'read', ...on]), EXIT.USAGE, /give at least one message id after the user/, 'mark without a message')
})

t.test('--version prints the package version', async tt => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  const r = await runCli(['--version'])
  tt.equal(r.code, 0)
  tt.equal(r.stdout, `${version}\n`)
})

t.test('a bad MARKSYNC_LOG_LEVEL: one line, exit 2, the node does not start', async tt => {
  const dir = await tempDir(tt)
  const mesh = await writeMesh(dir, { nodes: ['a'] })
  const node = await startDaemon(tt, mesh, 'a', { waitReady: false, env: { MARKSYNC_LOG_LEVEL: 'verbose' } })
  tt.same(await node.exited, { code: EXIT.USAGE, signal: null })
  tt.equal(node.stderr, 'marksync: MARKSYNC_LOG_LEVEL="verbose" is not a log level: use one of fatal, error, warn, info, debug, trace, silent, or unset it for info\n')
  tt.equal(node.stdout, '', 'nothing logged')
})
