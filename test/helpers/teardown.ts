/**
 * The one teardown type of the test fixtures: anything with tap's `teardown` (a test, or
 * tap itself). Fixtures take it optionally where a plain script (the chaos runner, a
 * benchmark) uses them too, and then stop what they started themselves.
 */
export interface Teardown { teardown (fn: () => unknown): void }

/** Runs `stop` at the end of the test, if there is one; returns `stop` for a script to call. */
export function stopAtTeardown<T extends () => Promise<unknown>> (t: Teardown | undefined, stop: T): T {
  t?.teardown(stop)
  return stop
}
