/**
 * A lab Dovecot (./dovecot-lab.ts) set up as docs/dovecot.md tells an admin to: the shipped
 * examples/dovecot/90-marksync.conf (its two path prefixes pointed into the host's directory),
 * marksync-push.lua, a master user tagged as the bridge's origin, and the event spool owned by
 * the mail user. Used by `marksync demo --dovecot`, the bridge tests and the bridge benchmark.
 */
import { existsSync } from 'node:fs'
import { chmod, chown, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDovecot, type DovecotInstance, type DovecotOptions, type Teardown } from './dovecot-lab.js'

/** The master user of examples/dovecot/ (the bridge logs in as "alice*marksync"). */
export const LAB_MASTER_USER = 'marksync'

/** examples/dovecot/ of the package, from src/ (tests) as from dist/src/ (the CLI). */
function examplesDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'examples', 'dovecot', '90-marksync.conf'))) return join(dir, 'examples', 'dovecot')
  }
  throw new Error('examples/dovecot/ not found next to the marksync package')
}

export interface LabHostOptions extends Pick<DovecotOptions, 'users' | 'mailFormat'> {
  /** The bridge's master password (the mesh file's masterPasswordFile holds the same). */
  masterPassword: string
}

export interface LabHost {
  dovecot: DovecotInstance
  /** The Lua driver's spool file (the `spool` of the node's `dovecot` section). */
  spool: string
}

/** Installs the shipped snippet and Lua script under `dir` and starts a Dovecot that includes them. */
export async function startLabHost (t: Teardown | undefined, dir: string, options: LabHostOptions): Promise<LabHost> {
  const etc = join(dir, 'etc')
  const spoolDir = join(dir, 'spool')
  const examples = examplesDir()
  await mkdir(etc, { recursive: true })
  await mkdir(spoolDir, { recursive: true })
  await chmod(dir, 0o755)
  await chmod(etc, 0o755)
  await writeFile(join(etc, 'master-users'), `${LAB_MASTER_USER}:{PLAIN}${options.masterPassword}::::::userdb_marksync_origin=${LAB_MASTER_USER}\n`, { mode: 0o644 })
  await copyFile(join(examples, 'marksync-push.lua'), join(etc, 'marksync-push.lua'))
  await chmod(join(etc, 'marksync-push.lua'), 0o644)
  const snippet = (await readFile(join(examples, '90-marksync.conf'), 'utf8')).replaceAll('/etc/dovecot/marksync', etc).replaceAll('/var/spool/marksync', spoolDir)
  await writeFile(join(etc, '90-marksync.conf'), snippet)
  // The lab's own master user has another name, so the bridge logs in through the snippet's.
  const dovecot = await startDovecot(t, {
    users: options.users,
    mailFormat: options.mailFormat,
    dir: join(dir, 'dovecot'),
    masterUser: { name: 'lab-master', password: 'lab-only' },
    extraConfig: `!include ${join(etc, '90-marksync.conf')}\n`
  })
  const mail = await stat(join(dir, 'dovecot', 'mail'))
  await chown(spoolDir, mail.uid, mail.gid)
  return { dovecot, spool: join(spoolDir, 'events.log') }
}
