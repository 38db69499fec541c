import { setFlagsFromString } from 'node:v8'

/**
 * How far V8 lets its old space grow past the live heap before the next full collection
 * (the `heapGrowingPercent` setting, docs/operations.md "Memory"). Under a catch-up's
 * allocation rate V8 picks up to 4 ×, and the garbage it lets pile up was the largest part
 * of a node's RSS. V8 reads the flag at each collection, so setting it in a running
 * process takes effect from the next one; 0 gives V8 its own choice back.
 */
export function applyHeapGrowingPercent (percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`)
}
