import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Levels searched above this file for package.json: src/cli (tests) or dist/src/cli (built). */
const PACKAGE_SEARCH_DEPTH = 5

/** marksync's version from its package.json, for `marksync --version`. */
export function packageVersion (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < PACKAGE_SEARCH_DEPTH; i++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'marksync' && typeof pkg.version === 'string') return pkg.version
    }
    dir = dirname(dir)
  }
  return 'unknown'
}
