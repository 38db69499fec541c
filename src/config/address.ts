/** `host:port` addresses of the mesh file ("127.0.0.1:7801", "[::1]:7801", or a bare port). */
export interface Address {
  host: string
  port: number
}

/** The API binds to loopback unless the mesh file names another host. */
export const DEFAULT_API_HOST = '127.0.0.1'

function parsePort (text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined
  const port = Number(text)
  return port >= 0 && port <= 65535 ? port : undefined
}

/** The address, or a sentence saying what is wrong with it. */
export function parseAddress (value: unknown, defaultHost = DEFAULT_API_HOST): Address | string {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 65535 ? { host: defaultHost, port: value } : 'port must be 0..65535'
  }
  if (typeof value !== 'string' || value === '') return 'must be "host:port" or a port number'
  const bare = parsePort(value)
  if (bare !== undefined) return { host: defaultHost, port: bare }
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d+)$/.exec(value)
  if (match === null) return `"${value}" is not "host:port"`
  const port = parsePort(match[3] as string)
  if (port === undefined) return `port of "${value}" must be 0..65535`
  return { host: match[1] ?? (match[2] as string), port }
}

export function formatAddress (address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

/** Peer URLs are `ws://host:port` or `wss://host:port`; the path is not used. */
export function parsePeerUrl (value: unknown): { url: string, address: Address, secure: boolean } | string {
  if (typeof value !== 'string') return 'must be a ws:// or wss:// URL'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `"${value}" is not a URL`
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `"${value}" must start with ws:// or wss://`
  const secure = url.protocol === 'wss:'
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port)
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { url: value, address: { host, port }, secure }
}
