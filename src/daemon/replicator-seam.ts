import type { ReplicatorApi, ReplicatorOptions } from '../replication/api.js'

/**
 * The one place the daemon gets its replicator from, so the daemon can be built and
 * tested before (and independently of) the replication engine.
 */
export type ReplicatorFactory = (options: ReplicatorOptions) => ReplicatorApi

// A variable specifier keeps the type checker from requiring the module at build time.
const REPLICATOR_MODULE = '../replication/replicator.js'

/** The real replicator, or undefined if this build has none. */
export async function loadReplicatorFactory (): Promise<ReplicatorFactory | undefined> {
  try {
    const mod = await import(REPLICATOR_MODULE) as { Replicator?: new (options: ReplicatorOptions) => ReplicatorApi }
    const Replicator = mod.Replicator
    return Replicator === undefined ? undefined : (options) => new Replicator(options)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}
