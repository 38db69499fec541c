import { HttpError } from './http-error.js'

/**
 * A table of routes matched on decoded path segments. `:name` segments capture one
 * segment each (percent-decoded, so ids may hold "/" or any other character).
 */
export interface Match<C> {
  /** The route pattern, used as the metrics label (bounded cardinality). */
  route: string
  params: Record<string, string>
  handler: (ctx: C, params: Record<string, string>) => Promise<unknown>
}

interface Route<C> {
  method: string
  pattern: string
  parts: string[]
  handler: (ctx: C, params: Record<string, string>) => Promise<unknown>
}

export class Router<C> {
  readonly #routes: Array<Route<C>> = []

  add (method: string, pattern: string, handler: (ctx: C, params: Record<string, string>) => Promise<unknown>): this {
    this.#routes.push({ method, pattern, parts: pattern.split('/').slice(1), handler })
    return this
  }

  /** The route for `method` and raw `pathname`; 404 NOT_FOUND or 405 METHOD_NOT_ALLOWED otherwise. */
  match (method: string, pathname: string): Match<C> {
    const raw = pathname.split('/').slice(1)
    let segments: string[]
    try {
      segments = raw.map(s => decodeURIComponent(s))
    } catch {
      throw new HttpError(400, 'INVALID_PATH', 'the path holds malformed percent-encoding')
    }
    const allowed: string[] = []
    for (const route of this.#routes) {
      const params = matchParts(route.parts, segments)
      if (params === undefined) continue
      if (route.method !== method) {
        allowed.push(route.method)
        continue
      }
      return { route: route.pattern, params, handler: route.handler }
    }
    if (allowed.length > 0) {
      const err = new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allowed.join(' or ')}`)
      throw Object.assign(err, { allow: allowed.join(', ') })
    }
    throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${pathname}`)
  }
}

function matchParts (parts: string[], segments: string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    const segment = segments[i] as string
    if (part.startsWith(':')) params[part.slice(1)] = segment
    else if (part !== segment) return undefined
  }
  return params
}
