import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './helpers/daemon.js'

t.test('the LICENSE file is the license package.json names, and is packed', async tt => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string, files: string[] }
  tt.equal(pkg.license, 'MIT')
  tt.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} /)
  tt.ok(pkg.files.includes('LICENSE'))
})
