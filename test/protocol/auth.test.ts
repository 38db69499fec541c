import t from 'tap'
import { chooseVersion, computeProof, newNonce, proofInput, verifyProof, type ProofInput } from '../../src/protocol/auth.js'
import { closeCodeFor } from '../../src/protocol/close-codes.js'

t.test('proofs bind role, version, cluster, both nodes and both nonces', async t => {
  const secret = Buffer.from('s3cret')
  const base: ProofInput = { role: 'dialer', version: 1, cluster: 'c', dialer: 'a', acceptor: 'b', dialerNonce: newNonce(), acceptorNonce: newNonce() }
  const proof = computeProof(secret, base)
  t.equal(proof.length, 32)
  t.ok(verifyProof(secret, base, proof))
  t.notOk(verifyProof(Buffer.from('other'), base, proof), 'other secret')
  const variants: Array<Partial<ProofInput>> = [
    { role: 'acceptor' }, { version: 2 }, { cluster: 'd' }, { dialer: 'b', acceptor: 'a' },
    { dialerNonce: base.acceptorNonce, acceptorNonce: base.dialerNonce }
  ]
  for (const v of variants) t.notOk(verifyProof(secret, { ...base, ...v }, proof), JSON.stringify(Object.keys(v)))
  t.notOk(verifyProof(secret, base, proof.subarray(0, 31)), 'short proof')
  const input = proofInput({ ...base, dialerNonce: Buffer.alloc(32, 1), acceptorNonce: Buffer.alloc(32, 2) })
  t.equal(input.subarray(0, input.length - 64).toString(), 'marksync-proof\ndialer\n1\nc\na\nb\n')
  t.same(input.subarray(input.length - 64), Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(32, 2)]))
})

t.test('version choice and close codes', async t => {
  t.equal(chooseVersion([1]), 1)
  t.equal(chooseVersion([3, 1, 2], [1, 2]), 2)
  t.equal(chooseVersion([2, 3], [1]), undefined)
  t.equal(closeCodeFor('AUTH_FAILED'), 1008)
  t.equal(closeCodeFor('INVALID_FRAME'), 1007)
  t.equal(closeCodeFor('BATCH_TOO_LARGE'), 1009)
  t.equal(closeCodeFor('SOMETHING_NEW'), 1002)
})
