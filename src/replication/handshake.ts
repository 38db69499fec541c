/**
 * The handshake of one session, either role (docs/protocol.md "Handshake"):
 *   dialer → hello {versions, cluster, node, nonce, time}
 *   acceptor → welcome {version, cluster, node, nonce, time, echo, proof(acceptor)}
 *   dialer → auth {proof(dialer), time, echo}
 * Each side has a clock sample when its half completes. A bad frame throws a
 * MarksyncError whose code the session closes with.
 */
import { MarksyncError } from '../errors.js'
import { PROTOCOL_VERSIONS } from '../limits.js'
import {
  HANDSHAKE_FRAMES, chooseVersion, computeProof, newNonce, verifyProof,
  type AuthFrame, type Frame, type HelloFrame, type IncarnationClaim, type ProofInput, type Role, type WelcomeFrame
} from '../protocol/index.js'
import { clockSample, type ClockSample } from './clock-sample.js'

export interface HandshakeInit {
  role: Role
  nodeId: string
  cluster: string
  secret: Buffer
  /**
   * Further secrets accepted in a peer's proof, while the cluster secret is rotated
   * (docs/security.md). This side proves with `secret` as acceptor, and as dialer with
   * whichever secret verified the acceptor's proof, so nodes one rotation step apart agree.
   */
  acceptSecrets?: readonly Buffer[]
  /** Node ids allowed to connect (acceptor) or the one expected (dialer: exactly one). */
  peers: ReadonlySet<string>
  /** The incarnation fields this side sends to `peer` (docs/protocol.md "Incarnations"); none if absent. */
  claimFor?: (peer: string) => IncarnationClaim
}

/** Only the claim's fields that are set: an undefined field would travel as nil. */
function claimFields (claim: IncarnationClaim | undefined): IncarnationClaim {
  const out: IncarnationClaim = {}
  if (claim?.incarnation !== undefined) out.incarnation = claim.incarnation
  if (claim?.seq !== undefined) out.seq = claim.seq
  if (claim?.peerIncarnation !== undefined) out.peerIncarnation = claim.peerIncarnation
  if (claim?.peerSeq !== undefined) out.peerSeq = claim.peerSeq
  return out
}

export class Handshake {
  readonly #init: HandshakeInit
  readonly #send: (frame: Frame) => void
  readonly #now: () => number
  #peer: string | undefined
  #version: number | undefined
  readonly #myNonce = newNonce()
  #peerNonce: Uint8Array | undefined
  #helloTime = 0
  #welcomeTime = 0
  #peerClaim: IncarnationClaim = {}

  constructor (init: HandshakeInit, send: (frame: Frame) => void, now: () => number) {
    this.#init = init
    this.#send = send
    this.#now = now
    if (init.role === 'dialer') this.#peer = [...init.peers][0]
  }

  /** The peer's node id, known after its hello (acceptor) or from the start (dialer). */
  get peer (): string | undefined { return this.#peer }
  get version (): number | undefined { return this.#version }
  /** The incarnation fields of the peer's hello or welcome ({} from a peer without them). */
  get peerClaim (): IncarnationClaim { return this.#peerClaim }

  #claim (peer: string): IncarnationClaim {
    return claimFields(this.#init.claimFor?.(peer))
  }

  /** The dialer's opening frame. */
  hello (): void {
    this.#helloTime = this.#now()
    const { cluster, nodeId } = this.#init
    this.#send({ type: 'hello', versions: [...PROTOCOL_VERSIONS], cluster, node: nodeId, nonce: this.#myNonce, time: this.#helloTime, ...this.#claim(this.#peer as string) })
  }

  /** One frame before the handshake completed; the clock sample once this side's half is done. */
  step (frame: Frame): ClockSample | undefined {
    const expected = this.#init.role === 'acceptor' ? (this.#peerNonce === undefined ? 'hello' : 'auth') : 'welcome'
    if (frame.type !== expected) {
      if (HANDSHAKE_FRAMES.has(frame.type)) throw new MarksyncError('UNEXPECTED_FRAME', `expected ${expected}, got ${frame.type}`)
      throw new MarksyncError('NOT_AUTHENTICATED', `${frame.type} before the handshake completed`)
    }
    if (frame.type === 'hello') this.#onHello(frame)
    else if (frame.type === 'welcome') return this.#onWelcome(frame)
    else if (frame.type === 'auth') return this.#onAuth(frame)
    return undefined
  }

  #proof (role: Role, peerNonce: Uint8Array): ProofInput {
    const dialerIsMe = this.#init.role === 'dialer'
    const peer = this.#peer as string
    return {
      role,
      version: this.#version as number,
      cluster: this.#init.cluster,
      dialer: dialerIsMe ? this.#init.nodeId : peer,
      acceptor: dialerIsMe ? peer : this.#init.nodeId,
      dialerNonce: dialerIsMe ? this.#myNonce : peerNonce,
      acceptorNonce: dialerIsMe ? peerNonce : this.#myNonce
    }
  }

  /** The secret (ours, or one accepted during a rotation) that `proof` was made with, if any. */
  #verified (input: ProofInput, proof: Uint8Array): Buffer | undefined {
    let match: Buffer | undefined
    // Every candidate is checked, so timing does not tell which one matched.
    for (const secret of [this.#init.secret, ...(this.#init.acceptSecrets ?? [])]) {
      if (verifyProof(secret, input, proof) && match === undefined) match = secret
    }
    return match
  }

  #checkCluster (cluster: string): void {
    if (cluster !== this.#init.cluster) throw new MarksyncError('WRONG_CLUSTER', `cluster ${cluster} is not ${this.#init.cluster}`)
  }

  #onHello (hello: HelloFrame): void {
    this.#checkCluster(hello.cluster)
    if (!this.#init.peers.has(hello.node)) throw new MarksyncError('UNKNOWN_PEER', `${hello.node} is not a configured peer`)
    const version = chooseVersion(hello.versions)
    if (version === undefined) {
      throw new MarksyncError('UNSUPPORTED_VERSION', `none of versions ${hello.versions.join(',')} is supported (${PROTOCOL_VERSIONS.join(',')})`)
    }
    this.#peer = hello.node
    this.#version = version
    this.#peerNonce = hello.nonce
    this.#peerClaim = claimFields(hello)
    this.#welcomeTime = this.#now()
    const proof = computeProof(this.#init.secret, this.#proof('acceptor', hello.nonce))
    const { cluster, nodeId } = this.#init
    this.#send({ type: 'welcome', version, cluster, node: nodeId, nonce: this.#myNonce, time: this.#welcomeTime, echo: hello.time, proof, ...this.#claim(hello.node) })
  }

  #onWelcome (frame: WelcomeFrame): ClockSample {
    this.#checkCluster(frame.cluster)
    if (frame.node !== this.#peer) throw new MarksyncError('UNKNOWN_PEER', `dialed ${String(this.#peer)}, answered by ${frame.node}`)
    if (!PROTOCOL_VERSIONS.includes(frame.version)) throw new MarksyncError('UNSUPPORTED_VERSION', `version ${frame.version} was not offered`)
    this.#version = frame.version
    this.#peerClaim = claimFields(frame)
    const secret = this.#verified(this.#proof('acceptor', frame.nonce), frame.proof)
    if (secret === undefined) throw new MarksyncError('AUTH_FAILED', 'the peer does not know the cluster secret')
    const t3 = this.#now()
    const proof = computeProof(secret, this.#proof('dialer', frame.nonce))
    this.#send({ type: 'auth', proof, time: t3, echo: frame.time })
    return clockSample(this.#helloTime, frame.time, frame.time, t3)
  }

  #onAuth (frame: AuthFrame): ClockSample {
    if (this.#verified(this.#proof('dialer', this.#peerNonce as Uint8Array), frame.proof) === undefined) {
      throw new MarksyncError('AUTH_FAILED', 'the peer does not know the cluster secret')
    }
    return clockSample(this.#welcomeTime, frame.time, frame.time, this.#now())
  }
}
