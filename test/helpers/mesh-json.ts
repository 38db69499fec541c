/**
 * The mesh file of two nodes, a and b, that the settings tests parse: `top` is merged into it
 * (e.g. `{ settings }` or `{ retired }`), and `own` becomes node a's own settings.
 */
export function twoNodeMesh (top: Record<string, unknown> = {}, own?: unknown): Record<string, unknown> {
  return {
    cluster: 'mail',
    secret: { env: 'S' },
    ...top,
    nodes: [
      { id: 'a', peerUrl: 'ws://10.0.0.1:7701', api: 7801, dataDir: 'a', settings: own },
      { id: 'b', peerUrl: 'ws://10.0.0.2:7701', api: 7801, dataDir: 'b' }
    ]
  }
}
