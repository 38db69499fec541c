/**
 * The group commit: the change jobs of one group share one ChangeBatch, so a group is
 * one atomic write and one fsync however many callers wait on it (docs/storage.md).
 * A job that throws before it adds anything is rejected alone; a failed read or write
 * rejects the whole group with the store's fault.
 */
import type { Level } from 'level'
import type { LogEntry } from '../types.js'
import { ChangeBatch, type StoreCaches } from './change-batch.js'
import type { ChangeJob } from './jobs.js'
import { META } from './open-db.js'

/** What the group commit needs of the store. */
export interface GroupHost {
  /** The database for a queued job; throws the fault's error while the store has one. */
  db: () => Level<Buffer, Buffer>
  lastSeq: () => number
  readonly caches: StoreCaches
  /** One wall clock reading per batch (through the clock, which notices steps). */
  wallTime: () => number
  /** The clock's last timestamp, persisted with the batch. */
  hlc: () => number
  sync: () => { sync: boolean }
  /** Turns a write error into the store's fault error (and starts watching for recovery). */
  failed: (err: unknown) => unknown
  /** The batch is durable: the store takes its seqs and clock. */
  committed: (batch: ChangeBatch, hlc: number) => void
  /** The batch is durable and entered entries: the `'entered'` event, before callers resolve. */
  entered: (entries: LogEntry[]) => void
}

type Accepted = Array<{ job: ChangeJob, done: () => void }>

export async function commitGroup (jobs: ChangeJob[], host: GroupHost): Promise<void> {
  const localTime = host.wallTime()
  const batch = await loadBatch(jobs, host)
  if (batch === undefined) return
  const accepted = await applyJobs(jobs, batch, localTime)
  if (batch.dirty) {
    if (!await writeBatch(batch, accepted, host)) return
    if (batch.entries.length > 0) host.entered(batch.entries)
  }
  for (const { done } of accepted) done()
}

/** A batch with every winner the group touches read; undefined (all rejected) if the read failed. */
async function loadBatch (jobs: ChangeJob[], host: GroupHost): Promise<ChangeBatch | undefined> {
  try {
    const batch = new ChangeBatch(host.db(), host.lastSeq(), host.caches)
    // One read for the whole group: 64 single-change calls would otherwise wait for 64 reads in turn.
    await batch.load(jobs.length === 1 ? jobs[0].pairs : jobs.flatMap(job => job.pairs))
    return batch
  } catch (err) {
    const failure = host.failed(err)
    for (const job of jobs) job.reject(failure)
    return undefined
  }
}

async function applyJobs (jobs: ChangeJob[], batch: ChangeBatch, localTime: number): Promise<Accepted> {
  const accepted: Accepted = []
  for (const job of jobs) {
    try {
      accepted.push({ job, done: await job.apply(batch, localTime) })
    } catch (err) {
      // A job throws only before it adds anything to the batch; the others go on.
      job.reject(err)
    }
  }
  return accepted
}

/** Writes the batch atomically; false (the accepted jobs rejected) if the write failed. */
async function writeBatch (batch: ChangeBatch, accepted: Accepted, host: GroupHost): Promise<boolean> {
  try {
    const hlc = host.hlc()
    await batch.write(META.state, hlc, host.sync())
    host.committed(batch, hlc)
    return true
  } catch (err) {
    const failure = host.failed(err)
    for (const { job } of accepted) job.reject(failure)
    return false
  }
}
