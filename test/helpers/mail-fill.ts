/**
 * Mailboxes for tests and benchmarks: N users × M messages, each with a Message-ID, made in a
 * Dovecot instance the caller started (test/helpers/dovecot.ts), and doveadm checks on them.
 */
import { execFile } from 'node:child_process'
import { chown, mkdir, stat, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { join } from 'node:path'
import type { DovecotInstance } from './dovecot.js'

/** Message files written at a time while filling. */
const WRITE_CONCURRENCY = 64

export type MailFormat = 'sdbox' | 'maildir'

export async function doveadmOk (dovecot: DovecotInstance, args: string[]): Promise<string> {
  const result = await dovecot.doveadm(args)
  if (result.code !== 0) throw new Error(`doveadm ${args.join(' ')} failed (exit ${String(result.code)}): ${result.stderr.trim()}`)
  return result.stdout
}

/** Checks that `users` (one, or all of the instance's) have `seen` `\Seen` messages in total on `dovecot`. */
export async function expectSeen (dovecot: DovecotInstance, users: string[], seen: number, what: string): Promise<void> {
  const who = users.length === 1 ? ['-u', users[0]] : ['-A']
  const out = await doveadmOk(dovecot, ['-f', 'tab', 'mailbox', 'status', ...who, 'messages unseen', 'INBOX'])
  let messages = 0
  let unseen = 0
  const [header, ...rows] = out.trim().split('\n').map(line => line.split('\t'))
  for (const row of rows) {
    messages += Number(row[header.indexOf('messages')])
    unseen += Number(row[header.indexOf('unseen')])
  }
  if (rows.length !== users.length || messages - unseen !== seen) {
    throw new Error(`${what}: expected ${seen} seen messages for ${users.length} users, found ${messages - unseen} of ${messages} for ${rows.length} users`)
  }
}

/** `cp -a`: keeps the vmail ownership and is much faster than copying file by file from here. */
export async function copyTree (from: string, to: string): Promise<void> {
  await promisify(execFile)('cp', ['-a', from, to])
}

/**
 * Fills A: the first user's mailbox is made by Dovecot (maildir files written straight into its
 * Maildir; for sdbox, a staging maildir that `doveadm import` copies in, since sdbox has no
 * plain-file form) and copied to the other users, whose mailboxes are then the same messages.
 */
export async function fill (a: DovecotInstance, users: string[], messagesPerUser: number, format: MailFormat): Promise<void> {
  const mail = join(a.dir, 'mail')
  const { uid, gid } = await stat(mail)
  const [first, ...others] = users
  const maildir = format === 'maildir' ? join(mail, first, 'Maildir') : join(a.dir, 'staging', first)
  await writeMaildir(maildir, first, messagesPerUser, uid, gid)
  if (format === 'sdbox') await doveadmOk(a, ['import', '-u', first, `maildir:${maildir}`, '', 'mailbox', 'INBOX'])
  // Dovecot indexes the first user's mailbox here, so the copies come with their index.
  await expectSeen(a, [first], 0, `${first} on A after filling`)
  for (const user of others) await copyTree(join(mail, first), join(mail, user))
  await expectSeen(a, users, 0, 'A after filling')
}

/** A minimal RFC 5322 message with the Message-ID the bridge would key on. */
function message (user: string, n: number): string {
  const id = `${user}.${String(n).padStart(6, '0')}`
  return `From: sender@example.test\r\nTo: ${user}@example.test\r\nSubject: message ${id}\r\n` +
    `Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <${id}@marksync.test>\r\n\r\nbody of ${id}\r\n`
}

async function writeMaildir (maildir: string, user: string, count: number, uid: number, gid: number): Promise<void> {
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    await mkdir(join(maildir, sub), { recursive: true })
    await chown(join(maildir, sub), uid, gid)
  }
  await chown(join(maildir, '..'), uid, gid)
  const base = 1_700_000_000
  for (let start = 0; start < count; start += WRITE_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(WRITE_CONCURRENCY, count - start) }, (_, i) => start + i)
    await Promise.all(batch.map(async n => {
      const body = message(user, n)
      // No flags in the name (":2,"): every message starts unseen. The name orders them by n.
      const file = join(maildir, 'cur', `${base + n}.M${n}P1.bench,S=${Buffer.byteLength(body)}:2,`)
      await writeFile(file, body)
      await chown(file, uid, gid)
    }))
  }
}
