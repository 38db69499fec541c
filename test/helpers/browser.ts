/**
 * Headless Chromium for the status page tests, driven by playwright-core (which downloads
 * no browser): the system's Debian `chromium`, a fresh profile per launch, no network
 * beyond what the page asks for. `chromiumPath()` is undefined when it is not installed.
 */
import { existsSync } from 'node:fs'
import { chromium, type BrowserContext } from 'playwright-core'
import { tempDir } from './tmp.js'
import type { Teardown } from './daemon.js'

const DEFAULT_CHROMIUM = '/usr/bin/chromium'

/** Flags that keep Chromium from calling home or needing a GPU or a sandbox (containers). */
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/** The Chromium binary (MARKSYNC_CHROMIUM overrides), or undefined if there is none. */
export function chromiumPath (): string | undefined {
  const path = process.env.MARKSYNC_CHROMIUM ?? DEFAULT_CHROMIUM
  return existsSync(path) ? path : undefined
}

/** A browser context on a fresh profile directory; closed (and the directory removed) at teardown. */
export async function launchBrowser (t: Teardown, executablePath: string): Promise<BrowserContext> {
  const profile = await tempDir(t, 'marksync-chromium-')
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 760 },
    timeout: 60_000
  })
  t.teardown(async () => { await context.close() })
  return context
}
