/**
 * A closed store's records in a file, to write them again with raw LevelDB puts and
 * nothing else: what LevelDB alone costs for the records the store keeps (ingest.ts,
 * catchup.ts). Framing: u32 key length, key, u32 value length, value, big-endian.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { Level } from 'level'
import { FAMILY } from '../../src/store/keys.js'

export interface RawRecord { key: Buffer, value: Buffer }

/** The records a change makes (feed, log, winner, unread, count): meta, cursors and peers left out. */
export const CHANGE_FAMILIES: ReadonlySet<number> = new Set([FAMILY.feed, FAMILY.log, FAMILY.winner, FAMILY.unread, FAMILY.count])

/** Writes the records of `families` in the store at `dir` (closed) to `file`; returns how many. */
export async function saveRecords (dir: string, file: string, families: ReadonlySet<number> = CHANGE_FAMILIES): Promise<number> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const parts: Buffer[] = []
  let count = 0
  try {
    for await (const [key, value] of db.iterator()) {
      if (!families.has(key[0])) continue
      const keyLength = Buffer.alloc(4)
      keyLength.writeUInt32BE(key.length)
      const valueLength = Buffer.alloc(4)
      valueLength.writeUInt32BE(value.length)
      parts.push(keyLength, key, valueLength, value)
      count++
    }
  } finally {
    await db.close()
  }
  await writeFile(file, Buffer.concat(parts))
  return count
}

/** The records of a file written by `saveRecords` (of `families` only, if given). */
export async function loadRecords (file: string, families?: ReadonlySet<number>): Promise<RawRecord[]> {
  const bytes = await readFile(file)
  const records: RawRecord[] = []
  for (let at = 0; at < bytes.length;) {
    const keyLength = bytes.readUInt32BE(at)
    const key = bytes.subarray(at + 4, at + 4 + keyLength)
    at += 4 + keyLength
    const valueLength = bytes.readUInt32BE(at)
    if (families === undefined || families.has(key[0])) records.push({ key, value: bytes.subarray(at + 4, at + 4 + valueLength) })
    at += 4 + valueLength
  }
  return records
}
