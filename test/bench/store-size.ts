/**
 * Bytes on disk per change and per winner (docs/operations.md "Sizing"): writes a
 * realistic mix into a real store, compacts it, and measures the files; then purges the
 * whole log, compacts again and measures what is left (winners, unread tables, counts).
 *
 *   npm run bench:sizing [-- --messages 100000]
 *
 * Prints a table and writes store-size.json (in the current directory).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { Store } from '../../src/store/index.js'
import type { LocalChange } from '../../src/types.js'
import { sizing } from './sizing.js'

const USERS = 1_000
const READ_SHARE = 0.7
const BATCH = 1_000

function argNumber (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

/** Ids shaped like real ones: an address and a Message-ID. */
const user = (i: number): string => `user${String(i % USERS).padStart(5, '0')}@example.org`
const message = (i: number): string => `<20261129${String(i).padStart(9, '0')}.${(i * 2654435761 % 2 ** 32).toString(16)}@mx1.example.org>`

async function compact (dir: string): Promise<void> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  // classic-level (what `level` is on Node) compacts a range; the `level` types do not say so.
  await (db as unknown as { compactRange: (start: Buffer, end: Buffer) => Promise<void> }).compactRange(Buffer.of(0x00), Buffer.of(0xff))
  await db.close()
}

async function write (store: Store, changes: LocalChange[]): Promise<void> {
  for (let i = 0; i < changes.length; i += BATCH) await store.mark(changes.slice(i, i + BATCH))
}

async function main (): Promise<void> {
  const messages = argNumber('messages', 100_000)
  const dir = await mkdtemp(join(tmpdir(), 'marksync-size-'))
  try {
    const store = new Store({ location: dir, nodeId: 'mx1', durability: 'relaxed' })
    await store.open()
    const ids = Array.from({ length: messages }, (_, i) => i)
    await write(store, ids.map(i => ({ user: user(i), message: message(i), status: 'unread' })))
    await write(store, ids.filter(i => (i % 10) < READ_SHARE * 10).map(i => ({ user: user(i), message: message(i), status: 'read' })))
    const changes = store.lastSeq
    await store.close()
    await compact(dir)
    const full = await sizing(dir, changes)
    const reopened = new Store({ location: dir, nodeId: 'mx1', durability: 'relaxed' })
    await reopened.open()
    await reopened.purge(Date.now() + 60_000)
    await reopened.close()
    await compact(dir)
    const winnersOnly = await sizing(dir, messages)
    const disk = (rows: typeof full): number => (rows.find(r => r.family === 'files on disk')?.bytes_per_change ?? 0) * (rows === full ? changes : messages)
    const result = {
      messages,
      changes,
      unread: messages - Math.round(messages * READ_SHARE),
      diskWithLog: Math.round(disk(full)),
      diskWinnersOnly: Math.round(disk(winnersOnly)),
      bytesPerWinner: +(disk(winnersOnly) / messages).toFixed(1),
      bytesPerChange: +((disk(full) - disk(winnersOnly)) / changes).toFixed(1),
      full,
      winnersOnly
    }
    console.table(full)
    console.table(winnersOnly)
    console.log(`${changes} changes on ${messages} messages (${USERS} users): ${result.bytesPerChange} bytes on disk per change in the log, ${result.bytesPerWinner} per winner (with its unread entry and counts)`)
    await writeFile('store-size.json', JSON.stringify(result, null, 2) + '\n')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
