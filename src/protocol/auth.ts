/**
 * Handshake cryptography and version choice. Each side proves it knows the cluster
 * secret by an HMAC over everything that identifies the session, so a proof cannot
 * be replayed into another session, reflected back with the roles swapped, or moved
 * to another cluster, pair of nodes or version. The secret itself never leaves.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { NONCE_BYTES, PROTOCOL_VERSIONS } from '../limits.js'

export type Role = 'dialer' | 'acceptor'

export interface ProofInput {
  /** Whose proof this is. */
  role: Role
  version: number
  cluster: string
  dialer: string
  acceptor: string
  dialerNonce: Uint8Array
  acceptorNonce: Uint8Array
}

export function newNonce (): Buffer {
  return randomBytes(NONCE_BYTES)
}

/**
 * The exact HMAC input (docs/protocol.md "Proof"): the UTF-8 text
 * `marksync-proof\n<role>\n<version>\n<cluster>\n<dialer>\n<acceptor>\n`
 * followed by the dialer's nonce and then the acceptor's nonce (raw bytes).
 * Node ids and cluster names cannot contain `\n`, so the text splits one way only.
 */
export function proofInput (p: ProofInput): Buffer {
  const text = `marksync-proof\n${p.role}\n${p.version}\n${p.cluster}\n${p.dialer}\n${p.acceptor}\n`
  return Buffer.concat([Buffer.from(text, 'utf8'), p.dialerNonce, p.acceptorNonce])
}

export function computeProof (secret: Uint8Array, p: ProofInput): Buffer {
  return createHmac('sha256', secret).update(proofInput(p)).digest()
}

export function verifyProof (secret: Uint8Array, p: ProofInput, proof: Uint8Array): boolean {
  const expected = computeProof(secret, p)
  return proof.length === expected.length && timingSafeEqual(expected, proof)
}

/** The highest version both sides speak, or undefined. */
export function chooseVersion (offered: readonly number[], supported: readonly number[] = PROTOCOL_VERSIONS): number | undefined {
  let best: number | undefined
  for (const v of offered) if (supported.includes(v) && (best === undefined || v > best)) best = v
  return best
}
