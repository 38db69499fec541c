/**
 * Error codes are a contract: every code a MarksyncError may carry is documented in
 * docs/ (as `CODE`, in backticks, as the docs write them).
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ERROR_CODES, isErrorCode } from '../src/errors.js'

const DOCS = fileURLToPath(new URL('../docs/', import.meta.url))

async function docsText (): Promise<string> {
  const files = (await readdir(DOCS)).filter(f => f.endsWith('.md'))
  return (await Promise.all(files.map(async f => await readFile(join(DOCS, f), 'utf8')))).join('\n')
}

t.test('every error code is documented in docs/', async t => {
  const text = await docsText()
  const missing = ERROR_CODES.filter(code => !text.includes(`\`${code}\``))
  t.same(missing, [], 'codes without a mention in docs/')
  t.ok(text.includes('`HTTP_<status>`'), 'the CLI\'s HTTP_<status> codes are documented')
})

t.test('isErrorCode knows the list and nothing else', async t => {
  for (const code of ERROR_CODES) t.ok(isErrorCode(code), code)
  t.ok(isErrorCode('HTTP_502'))
  t.notOk(isErrorCode('HTTP_'))
  t.notOk(isErrorCode('NOT_A_CODE'))
  t.notOk(isErrorCode(undefined))
})
