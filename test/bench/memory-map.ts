/**
 * One process's resident memory split by what holds it (docs/operations.md "Memory"), from
 * /proc/self/smaps: V8's heap (its own count), the rest of the anonymous memory (native:
 * the allocator's, LevelDB's blocks and buffers, Node's), LevelDB's tables mapped into
 * memory, and other file pages (the node binary, libraries). In MiB.
 */
import { readFileSync } from 'node:fs'

export interface MemoryMap {
  rss_mib: number
  v8_heap_mib: number
  native_mib: number
  tables_mib: number
  tables_mapped: number
  other_files_mib: number
}

export function memoryMap (smaps = readFileSync('/proc/self/smaps', 'utf8'), heapTotal = process.memoryUsage().heapTotal): MemoryMap {
  let rss = 0
  let anon = 0
  let tables = 0
  let mapped = 0
  let isTable = false
  for (const line of smaps.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      isTable = line.endsWith('.ldb')
      if (isTable) mapped++
    } else if (line.startsWith('Rss:')) {
      const kib = Number(line.split(/\s+/)[1])
      rss += kib
      if (isTable) tables += kib
    } else if (line.startsWith('Anonymous:')) {
      anon += Number(line.split(/\s+/)[1])
    }
  }
  const mib = (kib: number): number => Math.round(kib / 1024)
  const heap = heapTotal / 1024
  return {
    rss_mib: mib(rss),
    v8_heap_mib: mib(heap),
    native_mib: mib(Math.max(0, anon - heap)),
    tables_mib: mib(tables),
    tables_mapped: mapped,
    other_files_mib: mib(rss - anon - tables)
  }
}
