import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Teardown } from './teardown.js'

/** A fresh directory of its own for one test; removed when the test ends. */
export async function tempDir (t: Teardown, prefix = 'marksync-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/**
 * A port that was free a moment ago on 127.0.0.1, for processes that must be told their
 * port in advance (mesh files). In-process servers listen on port 0 instead.
 */
export { freeLoopbackPort as freePort } from '../../src/bridge/loopback-port.js'
