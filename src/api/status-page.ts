/**
 * The status page served at `/`: one self-contained HTML document (no build step, no
 * external assets) that fetches /v1/status every STATUS_PAGE_REFRESH_MS and draws the
 * node, its peers and the mesh. It holds no data itself, so it is served without the
 * token; the token is typed into the page and kept in the tab's sessionStorage (never in
 * the URL, where history, logs and Referer headers would keep it). A Content-Security-
 * Policy allows only this script and style (by hash) and fetches to this origin.
 */
import { createHash } from 'node:crypto'
import { STATUS_PAGE_REFRESH_MS } from '../limits.js'

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; background: #f7f8fa; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
.meta { color: #5a6275; } .meta b { color: #1d2330; font-weight: 600; }
table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0002; }
th, td { padding: .3em .7em; text-align: left; border-bottom: 1px solid #e4e7ec; white-space: nowrap; }
th { background: #eef0f4; font-weight: 600; font-size: .9em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ok td.state { color: #116b2f; font-weight: 600; }
tr.warn { background: #fff6db; } tr.warn td.state { color: #8a5a00; font-weight: 600; }
tr.down { background: #fde2e2; color: #b00020; } tr.down td.state { font-weight: 700; }
#banner { padding: .5em .8em; margin: .8em 0; background: #fde2e2; color: #b00020; border-radius: 4px; }
#token-form { margin: .8em 0; padding: .8em; background: #fff; box-shadow: 0 1px 2px #0002; }
[hidden] { display: none !important; }
svg { background: #fff; box-shadow: 0 1px 2px #0002; }
line.up { stroke: #1f9d55; stroke-width: 3; } line.down { stroke: #d0021b; stroke-width: 3; stroke-dasharray: 6 4; }
line.unknown { stroke: #b8bfcc; stroke-width: 2; }
circle.self { fill: #2f6fde; } circle.up { fill: #1f9d55; } circle.down { fill: #d0021b; } circle.remote { fill: #8d96a8; }
text { font-size: 12px; fill: #1d2330; } .small { font-size: .85em; color: #5a6275; }
`

const SCRIPT = `
'use strict'
const REFRESH_MS = ${STATUS_PAGE_REFRESH_MS}
const KEY = 'marksync-api-token'
const $ = id => document.getElementById(id)
let renders = 0
function cell (row, text, cls, field) {
  const td = row.insertCell()
  td.textContent = text
  if (cls) td.className = cls
  if (field) td.dataset.field = field
  return td
}
function dur (ms) {
  if (ms === null || ms === undefined) return '-'
  const a = Math.abs(ms)
  if (a < 1000) return Math.round(ms) + ' ms'
  if (a < 120000) return (ms / 1000).toFixed(1) + ' s'
  if (a < 7200000) return Math.round(ms / 60000) + ' min'
  return Math.round(ms / 3600000) + ' h'
}
function signed (ms) { return ms === null || ms === undefined ? '-' : (ms > 0 ? '+' : '') + dur(ms) }
function ago (t, now) { return t === null || t === undefined ? 'never' : dur(Math.max(0, now - t)) + ' ago' }
function bytes (n) { return n < 1024 ? Math.round(n) + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB' }
function stateOf (p) {
  if (!p.connected) return ['down', 'down']
  if (p.skewed) return ['warn', 'skewed']
  if (p.held || p.holding) return ['warn', p.held ? 'held by peer' : 'holding peer']
  return ['ok', 'connected']
}
function renderNode (s) {
  $('node').textContent = s.node
  $('cluster').textContent = s.cluster
  $('seq').textContent = s.seq
  $('oldest').textContent = s.oldestSeq
  $('durability').textContent = s.durability
  $('clock').textContent = new Date(s.wallTime).toISOString()
  $('correction').textContent = signed(s.clockCorrectionMs)
  $('rate').textContent = s.throughput.entriesPerSec + ' entries/s'
  document.title = 'marksync ' + s.node
}
function renderPeer (body, p, now) {
  const row = body.insertRow()
  const [cls, state] = stateOf(p)
  row.className = cls
  row.dataset.peer = p.id
  cell(row, p.id, '', 'id')
  cell(row, state, 'state', 'state')
  cell(row, p.since === null ? '-' : ago(p.since, now), '', 'since')
  cell(row, String(p.behind), 'num', 'behind')
  cell(row, dur(p.lagMs), 'num', 'lag')
  cell(row, String(p.cursor), 'num', 'cursor')
  cell(row, ago(p.lastAckAt, now), '', 'lastAck')
  cell(row, signed(p.clockOffsetMs), 'num', 'offset')
  cell(row, p.skewed ? 'yes' : 'no', '', 'skewed')
  cell(row, p.held ? 'held' : p.holding ? 'holding' : 'no', '', 'held')
  cell(row, p.rates.entriesInPerSec + '/s', 'num', 'entriesIn')
  cell(row, bytes(p.rates.bytesInPerSec) + '/s in, ' + bytes(p.rates.bytesOutPerSec) + '/s out', 'num', 'bytes')
  const e = p.lastError
  cell(row, e === null ? '-' : e.code + (e.reason ? ': ' + e.reason : '') + ' (' + ago(e.at, now) + ')', 'small', 'lastError')
}
function renderPeers (s) {
  const body = $('peers').tBodies[0]
  body.replaceChildren()
  for (const p of s.peers) renderPeer(body, p, s.wallTime)
  $('no-peers').hidden = s.peers.length > 0
}
function svgEl (tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  if (text !== undefined) e.textContent = text
  return e
}
function renderGraph (mesh) {
  const svg = $('graph')
  svg.replaceChildren()
  const n = mesh.nodes.length
  const at = new Map(mesh.nodes.map((node, i) => {
    const a = 2 * Math.PI * i / Math.max(n, 1) - Math.PI / 2
    return [node.id, [160 + 110 * Math.cos(a), 140 + 100 * Math.sin(a)]]
  }))
  for (const l of mesh.links) {
    const [a, b] = l.nodes.map(id => at.get(id))
    svg.append(svgEl('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: l.state }))
  }
  for (const node of mesh.nodes) {
    const [x, y] = at.get(node.id)
    const cls = node.role === 'self' ? 'self' : node.role === 'remote' ? 'remote' : node.connected ? 'up' : 'down'
    svg.append(svgEl('circle', { cx: x, cy: y, r: 16, class: cls, 'data-node': node.id }))
    svg.append(svgEl('text', { x: x + 20, y: y + 4 }, node.id))
  }
}
function renderMesh (s) {
  $('mesh-section').hidden = s.mesh === null
  if (s.mesh === null) return
  renderGraph(s.mesh)
  const body = $('origins').tBodies[0]
  body.replaceChildren()
  for (const node of s.mesh.nodes) {
    const row = body.insertRow()
    row.dataset.node = node.id
    cell(row, node.id, '', 'id')
    cell(row, node.role === 'self' ? 'this node' : node.role === 'peer' ? 'direct peer' : 'through relays', '', 'role')
    cell(row, String(node.entriesSeen), 'num', 'entriesSeen')
    cell(row, ago(node.lastLocalTime, s.wallTime), '', 'lastSeen')
    cell(row, node.apparentDelayMs === null ? '-' : signed(node.apparentDelayMs), 'num', 'apparentDelay')
  }
}
function problem (text) {
  $('banner').textContent = text
  $('banner').hidden = false
}
function askToken (why) {
  $('token-why').textContent = why
  $('token-form').hidden = false
}
async function load () {
  const token = sessionStorage.getItem(KEY)
  let res
  try {
    res = await fetch('/v1/status', { headers: token ? { authorization: 'Bearer ' + token } : {}, cache: 'no-store' })
  } catch (err) {
    return problem('cannot reach the node (' + err.message + '): the figures below are from ' + $('updated').textContent)
  }
  if (res.status === 401) return askToken(token ? 'The token was refused.' : 'This node needs its API token.')
  if (!res.ok) return problem('the node answered HTTP ' + res.status)
  const s = await res.json()
  $('banner').hidden = true
  $('token-form').hidden = true
  renderNode(s)
  renderPeers(s)
  renderMesh(s)
  $('updated').textContent = new Date(s.wallTime).toISOString()
  document.body.dataset.renders = String(++renders)
}
async function loop () {
  try { await load() } catch (err) { problem(String(err)) }
  setTimeout(loop, REFRESH_MS)
}
$('token-form').addEventListener('submit', event => {
  event.preventDefault()
  sessionStorage.setItem(KEY, $('token').value)
  $('token').value = ''
  void load()
})
void loop()
`

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>marksync</title><style>${STYLE}</style></head>
<body data-renders="0">
<h1>marksync node <span id="node">?</span></h1>
<div class="meta">cluster <b id="cluster">?</b> · seq <b id="seq">?</b> · oldest <b id="oldest">?</b> ·
durability <b id="durability">?</b> · clock <b id="clock">?</b> · correction <b id="correction">?</b> ·
throughput <b id="rate">?</b> · updated <b id="updated">never</b></div>
<div id="banner" hidden></div>
<form id="token-form" hidden><span id="token-why"></span>
<label>API token <input id="token" type="password" autocomplete="off"></label> <button>Use token</button>
<span class="small">kept in this tab only (sessionStorage)</span></form>
<h2>Peers</h2>
<table id="peers"><thead><tr><th>peer</th><th>state</th><th>since</th><th>behind</th><th>lag</th><th>cursor</th>
<th>last ack</th><th>clock offset</th><th>skewed</th><th>held</th><th>entries in</th><th>bytes</th><th>last error</th></tr></thead>
<tbody></tbody></table><p id="no-peers" class="small" hidden>no peers configured</p>
<section id="mesh-section"><h2>Mesh as seen from here</h2>
<svg id="graph" width="320" height="280" role="img" aria-label="mesh"></svg>
<table id="origins"><thead><tr><th>node</th><th>reached</th><th>changes entered</th><th>newest change seen</th>
<th>apparent delay</th></tr></thead><tbody></tbody></table>
<p class="small">Links between two other nodes are grey: this node cannot see them. Apparent delay: this
node's clock when a change arrived minus its origin's clock when it was made (transit time plus clock offset).</p></section>
<script>${SCRIPT}</script>
</body></html>
`

export const STATUS_PAGE = {
  html: HTML,
  headers: {
    'content-security-policy': `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; ` +
      "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer'
  }
}
