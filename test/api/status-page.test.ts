import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { apiCall, ROOT, startDaemon, writeMesh, type TestMesh } from '../helpers/daemon.js'
import { chromiumPath, launchBrowser } from '../helpers/browser.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

/**
 * The status page in headless Chromium on a real three-node mesh of `marksync`
 * processes: without the token it shows nothing; with it, its figures are those of
 * /v1/status; a killed peer's row turns red. MARKSYNC_UPDATE_SCREENSHOT=1 rewrites
 * docs/status-page.png from the last state.
 */
const TOKEN = 'status-page-token-0123456789'
const RED = 'rgb(176, 0, 32)'
const executablePath = chromiumPath()

interface Row { id: string, state: string, behind: string, cursor: string, skewed: string, held: string, cls: string, color: string }

async function rows (page: Page): Promise<Row[]> {
  return await page.$$eval('#peers tbody tr', trs => trs.map(tr => {
    const field = (name: string): string => tr.querySelector(`[data-field="${name}"]`)?.textContent ?? ''
    return { id: field('id'), state: field('state'), behind: field('behind'), cursor: field('cursor'), skewed: field('skewed'), held: field('held'), cls: tr.className, color: (globalThis as any).getComputedStyle(tr).color }
  }))
}

async function apiStatus (mesh: TestMesh, id: string): Promise<any> {
  const res = await apiCall(mesh.nodes[id]?.api as string, 'GET', '/v1/status', { token: TOKEN })
  if (res.status !== 200) throw new Error(`status of ${id}: HTTP ${res.status}`)
  return res.body
}

/** The page shows what /v1/status says (fetched after the page's last render). */
async function pageMatchesApi (page: Page, mesh: TestMesh): Promise<boolean> {
  const shown = await rows(page)
  const seq = await page.textContent('#seq')
  const status = await apiStatus(mesh, 'a')
  const expected = status.peers.map((p: any) => ({
    id: p.id,
    state: p.connected ? (p.skewed ? 'skewed' : 'connected') : 'down',
    behind: String(p.behind),
    cursor: String(p.cursor),
    skewed: p.skewed ? 'yes' : 'no',
    held: p.held ? 'held' : p.holding ? 'holding' : 'no'
  }))
  const actual = shown.map(({ id, state, behind, cursor, skewed, held }) => ({ id, state, behind, cursor, skewed, held }))
  const seen = await page.$$eval('#origins tbody tr', trs => trs.map(tr => [tr.getAttribute('data-node'), tr.querySelector('[data-field="entriesSeen"]')?.textContent]))
  const expectedSeen = status.mesh.nodes.map((n: any) => [n.id, String(n.entriesSeen)])
  return seq === String(status.seq) && JSON.stringify(actual) === JSON.stringify(expected) && JSON.stringify(seen) === JSON.stringify(expectedSeen)
}

t.test('status page in Chromium on a three-node mesh', { skip: executablePath === undefined ? 'no Chromium at /usr/bin/chromium (or $MARKSYNC_CHROMIUM): install Debian\'s chromium to run this test' : false }, async t => {
  const dir = await tempDir(t)
  const mesh = await writeMesh(dir, { nodes: ['a', 'b', 'c'], apiToken: TOKEN, settings: { heartbeat: '250ms' } })
  const nodes = await Promise.all(mesh.ids.map(async id => await startDaemon(t, mesh, id, { readyTimeoutMs: 60_000 })))
  const c = nodes[2]
  await waitFor(async () => (await apiStatus(mesh, 'a')).peers.every((p: any) => p.connected), { what: 'a connected to b and c', timeoutMs: 60_000 })
  for (const id of ['b', 'c']) {
    const body = { changes: [1, 2, 3].map(i => ({ user: 'alice', message: `${id}-${i}`, status: 'unread' })) }
    t.equal((await apiCall(mesh.nodes[id]?.api as string, 'POST', '/v1/changes', { token: TOKEN, body })).status, 200)
  }
  await waitFor(async () => (await apiStatus(mesh, 'a')).seq === 6, { what: 'a entered the six changes', timeoutMs: 20_000 })

  const context = await launchBrowser(t, executablePath as string)
  const page = await context.newPage()
  const response = await page.goto(`${mesh.nodes.a?.api as string}/`)
  t.equal(response?.status(), 200)
  t.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/)
  await page.waitForSelector('#token-form:not([hidden])', { timeout: 20_000 })
  t.equal(await page.textContent('#node'), '?', 'without the token the page shows no data')
  t.equal(await page.$$eval('#peers tbody tr', trs => trs.length), 0)

  await page.fill('#token', TOKEN)
  await page.click('#token-form button')
  await page.waitForSelector('#token-form[hidden]', { state: 'attached', timeout: 20_000 })
  t.equal(await page.textContent('#node'), 'a')
  await waitFor(async () => await pageMatchesApi(page, mesh), { what: 'page figures equal /v1/status', timeoutMs: 60_000, intervalMs: 200 })
  const before = await rows(page)
  t.same(before.map(r => [r.id, r.cls]), [['b', 'ok'], ['c', 'ok']], 'both peers connected, not red')
  t.not(before[1]?.color, RED)

  await c?.kill()
  const down = await waitFor(async () => (await rows(page)).find(r => r.id === 'c' && r.cls === 'down'), { what: 'row of c turns red', timeoutMs: 60_000, intervalMs: 200 })
  t.equal(down.state, 'down')
  t.equal(down.color, RED, 'the row is drawn red')
  t.equal(await page.getAttribute('#graph circle[data-node="c"]', 'class'), 'down', 'c is red in the mesh drawing')
  t.match(await page.textContent('#peers tr[data-peer="c"] [data-field="lastError"]') ?? '', /^[A-Z][A-Z_0-9]+(: .+)? \(\d.* ago\)$/, 'the last error of the link is shown')
  t.equal((await rows(page)).find(r => r.id === 'b')?.cls, 'ok', 'b stays green')
  await waitFor(async () => await pageMatchesApi(page, mesh), { what: 'page figures equal /v1/status after the kill', timeoutMs: 60_000, intervalMs: 200 })

  const png = await page.screenshot({ fullPage: true })
  t.ok(png.subarray(1, 4).toString() === 'PNG' && png.length > 10_000, 'a screenshot of the page')
  if (process.env.MARKSYNC_UPDATE_SCREENSHOT === '1') await writeFile(join(ROOT, 'docs', 'status-page.png'), png)
})
