import { ImapFlow } from 'imapflow'
import { BRIDGE_IMAP_TIMEOUT_MS, MAX_BRIDGE_SESSIONS } from '../limits.js'
import type { Address } from '../config/address.js'

export interface ImapPoolOptions {
  imap: Address
  masterUser: string
  password: string
  maxSessions?: number
}

/** The user does not exist on this Dovecot (or the master user may not act for them). */
export class UserAbsentError extends Error {
  readonly code = 'DOVECOT_USER_ABSENT'
}

/**
 * Open master-user IMAP sessions, one per user ("alice*marksync"), least recently
 * used closed first: a session that stays open spares Dovecot the login and the
 * mailbox open on every change. A session that errs or closes leaves the pool.
 */
export class ImapPool {
  readonly #o: ImapPoolOptions
  readonly #sessions = new Map<string, Promise<ImapFlow>>()
  logins = 0

  constructor (options: ImapPoolOptions) {
    this.#o = options
  }

  get size (): number { return this.#sessions.size }

  async session (user: string): Promise<ImapFlow> {
    const open = this.#sessions.get(user)
    if (open !== undefined) {
      // Most recently used last in the map's order.
      this.#sessions.delete(user)
      this.#sessions.set(user, open)
      const client = await open
      if (client.usable) return client
      this.drop(user, client)
    }
    const connecting = this.#connect(user)
    this.#sessions.set(user, connecting)
    connecting.catch(() => { if (this.#sessions.get(user) === connecting) this.#sessions.delete(user) })
    this.#evict()
    return await connecting
  }

  /** Forgets (and closes) a user's session, e.g. after a failed command. */
  drop (user: string, client?: ImapFlow): void {
    const open = this.#sessions.get(user)
    if (open === undefined) return
    void open.then(c => {
      if (client !== undefined && c !== client) return
      if (this.#sessions.get(user) === open) this.#sessions.delete(user)
      c.close()
    }, () => {})
  }

  async close (): Promise<void> {
    const all = [...this.#sessions.values()]
    this.#sessions.clear()
    await Promise.all(all.map(async open => { try { (await open).close() } catch {} }))
  }

  #evict (): void {
    const max = this.#o.maxSessions ?? MAX_BRIDGE_SESSIONS
    for (const user of this.#sessions.keys()) {
      if (this.#sessions.size <= max) return
      this.drop(user)
      this.#sessions.delete(user)
    }
  }

  async #connect (user: string): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: this.#o.imap.host,
      port: this.#o.imap.port,
      secure: false,
      auth: { user: `${user}*${this.#o.masterUser}`, pass: this.#o.password },
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: BRIDGE_IMAP_TIMEOUT_MS,
      greetingTimeout: BRIDGE_IMAP_TIMEOUT_MS
    })
    // An 'error' without a listener would end the daemon; the next command fails instead.
    client.on('error', () => this.drop(user, client))
    client.on('close', () => this.drop(user, client))
    try {
      await client.connect()
    } catch (err) {
      client.close()
      // AUTHORIZATIONFAILED: the master password is right but there is no such user.
      // AUTHENTICATIONFAILED (a wrong master password) stays an error: retried, shown in the status.
      if ((err as { serverResponseCode?: string }).serverResponseCode === 'AUTHORIZATIONFAILED') {
        throw new UserAbsentError(`Dovecot has no user ${JSON.stringify(user)} (master login refused)`)
      }
      throw err
    }
    this.logins++
    return client
  }
}
