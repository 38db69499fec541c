/**
 * The configuration of a throwaway Dovecot 2.3 instance for `marksync demo --dovecot`, the tests
 * and the benchmarks (started by ./dovecot-lab.ts): loopback only, no TLS, no systemd, its own
 * base_dir/state_dir/log, passwd-file users, a master user, and the doveadm TCP listener that
 * dsync between instances uses. Not a production configuration (docs/dovecot.md has that).
 */
import { join } from 'node:path'

/**
 * The doveadm server password of every lab instance. dsync's client side sends its own
 * instance's `doveadm_password` to the remote's doveadm listener, so instances that sync with
 * each other must share it. Loopback only, lab data only.
 */
export const LAB_DOVEADM_PASSWORD = 'lab-doveadm'

export interface ConfigInput {
  dir: string
  imapPort: number
  doveadmPort: number
  mailFormat: 'maildir' | 'sdbox'
  /** uid of the `vmail` user the mail processes run as. */
  vmailUid: number
  plugins: boolean
  extraConfig: string
}

/** The mail plugins a Lua push-notification set-up needs (all in Debian's dovecot-core). */
const PUSH_PLUGINS = 'notify push_notification mail_lua push_notification_lua'

/** Paths inside an instance directory. */
export function instancePaths (dir: string): Record<'conf' | 'run' | 'state' | 'mail' | 'log' | 'stderr' | 'passwd' | 'masterPasswd', string> {
  return {
    conf: join(dir, 'dovecot.conf'),
    run: join(dir, 'run'),
    state: join(dir, 'state'),
    mail: join(dir, 'mail'),
    log: join(dir, 'dovecot.log'),
    stderr: join(dir, 'dovecot.stderr'),
    passwd: join(dir, 'passwd'),
    masterPasswd: join(dir, 'master-passwd')
  }
}

/**
 * A passwd-file line. Logins and passwords are lab data, but a ':' or a line break would
 * silently shift the fields, and '*' is the master-user separator: refuse them.
 */
export function passwdLine (login: string, password: string): string {
  if (login === '' || /[:\s*%/]/.test(login)) throw new TypeError(`dovecot lab: bad login ${JSON.stringify(login)}`)
  if (/[:\r\n]/.test(password)) throw new TypeError(`dovecot lab: bad password for ${login}`)
  return `${login}:{PLAIN}${password}::::::\n`
}

function mailLocation (mail: string, format: 'maildir' | 'sdbox'): string {
  return format === 'maildir' ? `maildir:${mail}/%u/Maildir` : `sdbox:${mail}/%u/sdbox`
}

// The configuration file as one template: longer than a function, read as a file.
// eslint-disable-next-line max-lines-per-function
export function dovecotConfig (input: ConfigInput): string {
  const p = instancePaths(input.dir)
  return `# throwaway Dovecot 2.3 instance written by marksync (demo, tests, benchmarks)
instance_name = marksync-lab-${input.imapPort}
base_dir = ${p.run}
state_dir = ${p.state}
log_path = ${p.log}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No 2 s pause after a failed login: tests try wrong passwords on purpose.
auth_failure_delay = 0
mail_location = ${mailLocation(p.mail, input.mailFormat)}
mail_uid = vmail
mail_gid = vmail
first_valid_uid = ${input.vmailUid}
mail_fsync = never
mail_plugins = $mail_plugins${input.plugins ? ' ' + PUSH_PLUGINS : ''}
auth_master_user_separator = *
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN ${p.masterPasswd}
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${p.passwd}
}
# passwd-file (not static) so that doveadm -A can list the users; the origin field tells
# the bridge which changes its own master-user sessions made ("yes" for a user's own login).
userdb {
  driver = passwd-file
  args = username_format=%u ${p.passwd}
  default_fields = uid=vmail gid=vmail home=${p.mail}/%u marksync_origin=%{master_user}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${input.imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
# The doveadm server drops to vmail after its first user and must still reach auth-userdb.
service auth {
  unix_listener auth-userdb {
    mode = 0600
    user = vmail
  }
}
service doveadm {
  inet_listener {
    address = 127.0.0.1
    port = ${input.doveadmPort}
  }
}
doveadm_password = ${LAB_DOVEADM_PASSWORD}
protocol imap {
  mail_max_userip_connections = 100
}
${input.extraConfig}
`
}
