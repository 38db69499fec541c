/**
 * The store's records per change and their bytes (goal 5 of issue 11): reads a closed
 * store directory family by family, and the size of its files on disk.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { FAMILY } from '../../src/store/keys.js'

export interface SizingRow {
  family: string
  records: number
  per_change: number
  key_bytes: number
  value_bytes: number
  bytes_per_change: number
}

const NAMES = new Map<number, string>(Object.entries(FAMILY).map(([name, byte]) => [byte, name]))

async function diskBytes (dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

/** One row per family, then the total and the files on disk (compressed, after LevelDB's compactions). */
export async function sizing (dir: string, changes: number): Promise<SizingRow[]> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const families = new Map<number, { records: number, keys: number, values: number }>()
  try {
    for await (const [key, value] of db.iterator()) {
      const f = families.get(key[0]) ?? { records: 0, keys: 0, values: 0 }
      f.records++
      f.keys += key.length
      f.values += value.length
      families.set(key[0], f)
    }
  } finally {
    await db.close()
  }
  const row = (family: string, records: number, keys: number, values: number): SizingRow => ({
    family,
    records,
    per_change: +(records / changes).toFixed(3),
    key_bytes: records === 0 ? 0 : +(keys / records).toFixed(1),
    value_bytes: records === 0 ? 0 : +(values / records).toFixed(1),
    bytes_per_change: +((keys + values) / changes).toFixed(1)
  })
  const rows = [...families].sort((x, y) => x[0] - y[0]).map(([byte, f]) => row(NAMES.get(byte) ?? `0x${byte.toString(16)}`, f.records, f.keys, f.values))
  const sum = (k: 'records' | 'keys' | 'values'): number => [...families.values()].reduce((n, f) => n + f[k], 0)
  rows.push(row('all records', sum('records'), sum('keys'), sum('values')))
  const disk = await diskBytes(dir)
  rows.push({ family: 'files on disk', records: 0, per_change: 0, key_bytes: 0, value_bytes: 0, bytes_per_change: +(disk / changes).toFixed(1) })
  return rows
}
