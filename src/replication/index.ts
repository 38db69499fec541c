export { Replicator } from './replicator.js'
export type { PeerConfig, PeerStatus, ReplicatorApi, ReplicatorOptions, TlsFiles } from './api.js'
