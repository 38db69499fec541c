export { Replicator } from './replicator.js'
export type {
  BatchAppliedEvent, PeerConfig, PeerRejectedEvent, PeerStatus, ReplicatorApi, ReplicatorEvents, ReplicatorOptions, StateTransferEvent, TlsFiles
} from './api.js'
