import t from 'tap'
import { apiCall, runCli, startDaemon, writeMesh } from '../helpers/daemon.js'
import { tempDir } from '../helpers/tmp.js'
import { MAX_API_BODY_BYTES, MAX_USER_BYTES } from '../../src/limits.js'
import { EXIT } from '../../src/daemon/exit-codes.js'

t.test('a daemon refuses bad API input with the documented 4xx and changes nothing', async tt => {
  const dir = await tempDir(tt)
  const token = 'test-token-123'
  const mesh = await writeMesh(dir, { nodes: ['solo'], apiToken: token })
  const node = await startDaemon(tt, mesh, 'solo')
  const api = mesh.nodes.solo?.api ?? ''
  const good = await apiCall(api, 'POST', '/v1/changes', { body: { user: 'u', message: 'm', status: 'unread' }, token })
  tt.equal(good.status, 200)
  const cases: Array<[string, string, string, unknown, string | undefined, number, string]> = [
    ['bad JSON', 'POST', '/v1/changes', '{not json', token, 400, 'BAD_JSON'],
    ['unknown status', 'POST', '/v1/changes', { user: 'u', message: 'm', status: 'archived' }, token, 400, 'INVALID_STATUS'],
    ['id too long', 'POST', '/v1/changes', { user: 'x'.repeat(MAX_USER_BYTES + 1), message: 'm', status: 'read' }, token, 400, 'INVALID_USER'],
    ['oversize body', 'POST', '/v1/changes', { user: 'u', message: 'm', status: 'read', pad: 'p'.repeat(MAX_API_BODY_BYTES) }, token, 413, 'BODY_TOO_LARGE'],
    ['wrong token', 'POST', '/v1/changes', { user: 'u', message: 'm', status: 'read' }, 'nope', 401, 'UNAUTHORIZED'],
    ['no token', 'POST', '/v1/changes', { user: 'u', message: 'm', status: 'read' }, undefined, 401, 'UNAUTHORIZED'],
    ['unknown route', 'GET', '/v2/anything', undefined, token, 404, 'NOT_FOUND']
  ]
  for (const [name, method, path, body, tok, status, code] of cases) {
    const res = await apiCall(api, method, path, { ...(body !== undefined ? { body } : {}), ...(tok !== undefined ? { token: tok } : {}) })
    tt.equal(res.status, status, `${name}: status`)
    tt.equal(res.body?.error?.code, code, `${name}: code`)
  }
  const state = await apiCall(api, 'GET', '/v1/users/u/messages/m', { token })
  tt.match(state.body, { status: 'unread', seq: 1 })
  const st = await apiCall(api, 'GET', '/v1/status', { token })
  tt.equal(st.body.seq, 1, 'nothing else was written')
  const health = await apiCall(api, 'GET', '/v1/health')
  tt.same(health.body, { ok: true, node: 'solo', store: { state: 'ok' } })
  // The CLI takes the token from the mesh file.
  const cli = await runCli(['unread', 'u', '--config', mesh.file, '--node', 'solo', '--json'])
  tt.equal(cli.code, 0, cli.stderr)
  tt.same(JSON.parse(cli.stdout).messages, ['m'])
  const denied = await runCli(['unread', 'u', '--api', api, '--token', 'bad'])
  tt.equal(denied.code, EXIT.FAILURE)
  tt.match(denied.stderr, /TOKEN_REJECTED/)
  const metrics = await apiCall(api, 'GET', '/metrics', { token })
  tt.match(metrics.text, /marksync_http_requests_total\{route="\/v1\/changes",status="400"\} 3/)
  tt.match(metrics.text, /marksync_http_requests_total\{route="\/v1\/changes",status="401"\} 2/)
  tt.same(await node.stop('SIGINT'), { code: 0, signal: null })
})
