/**
 * Collects every problem of a mesh file with its JSON path (`links[2][1]`,
 * `nodes[0].api`), so `config check` can report them all at once instead of
 * stopping at the first.
 */
export type JsonPath = ReadonlyArray<string | number>

export interface Problem {
  /** `links[2][1]`, `settings.retention`, or `(file)` for the file as a whole. */
  path: string
  message: string
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

export function formatPath (path: JsonPath): string {
  if (path.length === 0) return '(file)'
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (IDENTIFIER.test(part)) out += out === '' ? part : `.${part}`
    else out += `[${JSON.stringify(part)}]`
  }
  return out
}

export class Problems {
  readonly list: Problem[] = []

  add (path: JsonPath, message: string): void {
    const problem = { path: formatPath(path), message }
    // Checking every node reads shared files once per node: report each problem once.
    if (this.list.some(p => p.path === problem.path && p.message === problem.message)) return
    this.list.push(problem)
  }

  get ok (): boolean {
    return this.list.length === 0
  }

  /** One line per problem: `path: message`. */
  lines (): string[] {
    return this.list.map(p => `${p.path}: ${p.message}`)
  }
}

export function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Keys starting with "//" are comments (JSON has none) and are ignored everywhere;
 * every other key must be one of `known`.
 */
export function checkKeys (value: Record<string, unknown>, known: readonly string[], path: JsonPath, problems: Problems): void {
  for (const key of Object.keys(value)) {
    if (key.startsWith('//')) continue
    if (!known.includes(key)) problems.add([...path, key], `unknown key (expected one of ${known.join(', ')})`)
  }
}
