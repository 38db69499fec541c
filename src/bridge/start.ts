import { join } from 'node:path'
import { Gauge, type Registry } from 'prom-client'
import type { NodeConfig } from '../config/load.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { StatusStore } from '../store/api.js'
import { DovecotBridge, type BridgeStatus } from './bridge.js'

/** The bridge's LevelDB, inside the node's data directory (LevelDB ignores a subdirectory). */
export const BRIDGE_STATE_DIR = 'dovecot-bridge'

/** Starts the node's Dovecot bridge when its mesh entry has a `dovecot` section. */
export async function startBridge (config: NodeConfig, store: StatusStore, metrics: Metrics, log: Logger): Promise<DovecotBridge | undefined> {
  const section = config.node.dovecot
  if (section === undefined || config.dovecotPassword === undefined) return undefined
  const bridge = new DovecotBridge({ section, password: config.dovecotPassword, store, stateDir: join(config.node.dataDir, BRIDGE_STATE_DIR), log })
  await bridge.start()
  registerBridgeMetrics(metrics.registry, () => bridge.status())
  return bridge
}

/** Gauges read from the bridge's status at scrape time (docs/dovecot.md "Status and metrics"). */
function registerBridgeMetrics (registry: Registry, status: () => BridgeStatus): void {
  const figures: Array<[string, string, (s: BridgeStatus) => number]> = [
    ['marksync_bridge_up', '1 while the bridge is in step with Dovecot, 0 while it is failing or starting', s => s.state === 'ok' ? 1 : 0],
    ['marksync_bridge_behind_entries', 'Feed entries not yet applied to Dovecot', s => s.behind],
    ['marksync_bridge_posted_total', 'Local Dovecot changes entered into the node', s => s.counters.posted],
    ['marksync_bridge_applied_total', 'Message copies whose flags the bridge changed in Dovecot', s => s.counters.applied],
    ['marksync_bridge_events_total', 'Spool events read', s => s.counters.events],
    ['marksync_bridge_echoes_total', 'Spool events of the bridge\'s own writes, dropped', s => s.counters.echoes],
    ['marksync_bridge_no_message_id_total', 'Messages seen without a Message-ID (not replicated)', s => s.counters.noMessageId],
    ['marksync_bridge_errors_total', 'Dovecot failures (each retried)', s => s.counters.errors],
    ['marksync_bridge_catch_ups_total', 'Catch-ups of every known mailbox', s => s.counters.catchUps],
    ['marksync_bridge_expunge_searches_total', 'UID SEARCHes listing a mailbox to find expunges', s => s.counters.expungeSearches]
  ]
  for (const [name, help, read] of figures) {
    new Gauge({ name, help, registers: [registry], collect () { this.set(read(status())) } })
  }
}
