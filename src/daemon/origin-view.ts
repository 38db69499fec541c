/**
 * What this node has seen of every origin in the mesh, direct peer or not: the
 * newest change from it that this node entered, with its origin time and the local
 * time it arrived. `localTime - originTime` of that change is the origin's apparent
 * clock offset (plus transit delay): for a node reached only through relays it is
 * the only offset this node can know. Counted since the daemon started.
 */
import { MAX_TRACKED_ORIGINS } from '../limits.js'
import type { LogEntry } from '../types.js'

export interface OriginSeen {
  origin: string
  /** Changes of this origin entered here since start. */
  entries: number
  /** Origin clock time of the newest of them, in ms. */
  lastOriginTime: number
  /** This node's clock when that change was entered, in ms. */
  lastLocalTime: number
  /** `lastLocalTime - lastOriginTime`: transit delay plus our clock minus the origin's, in ms. */
  apparentDelayMs: number
}

export class OriginView {
  readonly #origins = new Map<string, OriginSeen>()

  /** Store 'entered' listener. New origins beyond MAX_TRACKED_ORIGINS are not tracked. */
  entered (entries: LogEntry[]): void {
    for (const e of entries) {
      let seen = this.#origins.get(e.origin)
      if (seen === undefined) {
        if (this.#origins.size >= MAX_TRACKED_ORIGINS) continue
        seen = { origin: e.origin, entries: 0, lastOriginTime: 0, lastLocalTime: 0, apparentDelayMs: 0 }
        this.#origins.set(e.origin, seen)
      }
      seen.entries++
      if (e.originTime >= seen.lastOriginTime) {
        seen.lastOriginTime = e.originTime
        seen.lastLocalTime = e.localTime
        seen.apparentDelayMs = e.localTime - e.originTime
      }
    }
  }

  get (origin: string): OriginSeen | undefined {
    const seen = this.#origins.get(origin)
    return seen === undefined ? undefined : { ...seen }
  }
}
