import { parsePeerUrl } from './address.js'
import { checkKeys, isObject, type JsonPath, type Problems } from './problems.js'

/** A link between two nodes; `urls[x]` overrides the URL used on this link to reach x. */
export interface Link {
  nodes: [string, string]
  urls: Record<string, string>
}

/** The mesh file's `links`: "full" (the default) or a list of pairs, each checked against the node ids. */
export function parseLinks (raw: unknown, ids: Map<string, number>, problems: Problems): Link[] {
  if (raw === undefined || raw === 'full') return fullMesh([...ids.keys()])
  if (!Array.isArray(raw)) {
    problems.add(['links'], 'must be "full" or an array of ["a", "b"] pairs')
    return []
  }
  const links: Link[] = []
  const seen = new Map<string, number>()
  raw.forEach((item: unknown, i: number) => {
    const link = parseLink(item, i, ids, problems)
    if (link === undefined) return
    const [a, b] = link.nodes
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
    const first = seen.get(key)
    if (first !== undefined) problems.add(linkPairPath(item, i), `duplicate link ${a}-${b} (also links[${first}])`)
    else seen.set(key, i)
    links.push(link)
  })
  return links
}

function fullMesh (all: string[]): Link[] {
  const links: Link[] = []
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) links.push({ nodes: [all[i] as string, all[j] as string], urls: {} })
  }
  return links
}

/** Where a link's pair is: the item itself, or its `nodes` field in the object form. */
function linkPairPath (item: unknown, i: number): JsonPath {
  return isObject(item) ? ['links', i, 'nodes'] : ['links', i]
}

/** One item of `links`: a pair, or {"nodes": pair, "urls": {...}}; undefined if it is wrong. */
function parseLink (item: unknown, i: number, ids: Map<string, number>, problems: Problems): Link | undefined {
  let pair: unknown = item
  let urls: Record<string, string> = {}
  const pairPath = linkPairPath(item, i)
  if (isObject(item)) {
    checkKeys(item, ['nodes', 'urls'], ['links', i], problems)
    pair = item.nodes
    if (item.urls !== undefined) {
      if (!isObject(item.urls)) problems.add(['links', i, 'urls'], 'must map node ids to ws:// URLs')
      else urls = parseLinkUrls(item.urls, ['links', i, 'urls'], problems)
    }
  }
  if (!Array.isArray(pair) || pair.length !== 2) {
    problems.add(pairPath, 'a link must be a pair ["a", "b"] or {"nodes": ["a", "b"], "urls": {...}}')
    return undefined
  }
  const valid = knownNodes(pair, pairPath, ids, problems)
  for (const key of Object.keys(urls)) {
    if (!pair.includes(key)) problems.add(['links', i, 'urls', key], 'is not one of the two nodes of this link')
  }
  if (!valid) return undefined
  const [a, b] = pair as [string, string]
  if (a === b) {
    problems.add(pairPath, `a node cannot link to itself ("${a}")`)
    return undefined
  }
  return { nodes: [a, b], urls }
}

/** Whether both ends of a pair are node ids; each unknown one is a problem. */
function knownNodes (pair: unknown[], pairPath: JsonPath, ids: Map<string, number>, problems: Problems): boolean {
  let valid = true
  pair.forEach((id: unknown, k: number) => {
    if (typeof id !== 'string' || !ids.has(id)) {
      problems.add([...pairPath, k], `unknown node ${JSON.stringify(id)}`)
      valid = false
    }
  })
  return valid
}

function parseLinkUrls (raw: Record<string, unknown>, at: JsonPath, problems: Problems): Record<string, string> {
  const urls: Record<string, string> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('//')) continue
    const parsed = parsePeerUrl(value)
    if (typeof parsed === 'string') problems.add([...at, key], parsed)
    else urls[key] = parsed.url
  }
  return urls
}
