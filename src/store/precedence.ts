/**
 * The total order of changes of one (user, message) pair, identical on every
 * node: higher `ts` wins; equal `ts` is broken by the origin node id, compared
 * as plain JS strings (`<`). Node ids are ASCII `[A-Za-z0-9._-]`, where that
 * is the same as byte order, so an implementation in another language agrees.
 */
import type { Change } from '../types.js'

/** > 0 if `change` beats `current` (or there is none), 0 if it is the same, < 0 if older. */
export function compareChanges (change: Pick<Change, 'ts' | 'origin'>, current: Pick<Change, 'ts' | 'origin'> | undefined): number {
  if (current === undefined) return 1
  if (change.ts !== current.ts) return change.ts > current.ts ? 1 : -1
  if (change.origin === current.origin) return 0
  return change.origin > current.origin ? 1 : -1
}
