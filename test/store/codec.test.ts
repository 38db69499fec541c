import t from 'tap'
import { decodeFeed, decodeNumbers, decodeWinner, encodeFeed, encodeNumbers, encodeWinner, RECORD_VERSION } from '../../src/store/codec.js'

t.test('records round-trip', async t => {
  const feed = { user: 'a!b\u{1F600}', message: 'm\u00ff', status: 'deleted' as const, origin: 'node-a', ts: 1_843_200_000_001_024, localTime: 1_800_000_000_001, from: 'relay.1' }
  t.same(decodeFeed(encodeFeed(feed)), feed)
  const local = { ...feed, from: undefined }
  delete local.from
  t.same(decodeFeed(encodeFeed(local)), local)
  const winner = { status: 'unread' as const, origin: 'n', ts: 2 ** 52, localTime: 0, seq: Number.MAX_SAFE_INTEGER }
  t.same(decodeWinner(encodeWinner(winner)), winner)
  t.same(decodeNumbers(encodeNumbers([0, 7, 2 ** 53 - 1]), 3, 'x'), [0, 7, 2 ** 53 - 1])
})

t.test('records of a newer version are refused, broken ones reported', async t => {
  const winner = encodeWinner({ status: 'read', origin: 'n', ts: 5, localTime: 1, seq: 1 })
  winner[0] = RECORD_VERSION + 1
  t.throws(() => decodeWinner(winner), { code: 'STORE_VERSION' })
  const feed = encodeFeed({ user: 'u', message: 'm', status: 'read', origin: 'n', ts: 5, localTime: 1 })
  feed[1] = 9
  t.throws(() => decodeFeed(feed), { code: 'STORE_CORRUPT' })
  t.throws(() => decodeWinner(Buffer.alloc(0)), { code: 'STORE_CORRUPT' })
  t.throws(() => decodeNumbers(Buffer.of(RECORD_VERSION, 1, 2), 1, 'count'), { code: 'STORE_CORRUPT' })
})
