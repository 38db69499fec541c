import t from 'tap'
import { countKey, feedKey, logKey, pairOfKey, prefixEnd, readComponent, seqOfKey, unreadKey, userPrefix, winnerKey, FAMILY } from '../../src/store/keys.js'

// Ids the validator would refuse are included on purpose: the keys must be safe on their own.
const HOSTILE = ['a', 'a!b', 'a\u0000', 'a\u0000\u0000b', '\u0000', 'a\xff', 'a\uffff', 'ab', 'a\u0001', '\u{1F600}', 'a\u{1F600}', 'a!', '!', 'a/b', 'a:b', 'a\\u0000']

t.test('string components round-trip and never collide', async t => {
  const seen = new Map<string, string>()
  const problems: string[] = []
  for (const user of HOSTILE) {
    for (const message of HOSTILE) {
      const key = winnerKey(user, message)
      const back = pairOfKey(key)
      if (back.user !== user || back.message !== message) problems.push(`${JSON.stringify([user, message])} decodes as ${JSON.stringify(back)}`)
      const hex = key.toString('hex')
      const other = seen.get(hex)
      if (other !== undefined) problems.push(`${JSON.stringify([user, message])} collides with ${other}`)
      seen.set(hex, JSON.stringify([user, message]))
    }
  }
  t.same(problems, [])
  t.equal(seen.size, HOSTILE.length ** 2)
})

t.test("no key of one user falls in another user's range", async t => {
  const problems: string[] = []
  let checked = 0
  for (const family of [FAMILY.log, FAMILY.winner, FAMILY.unread]) {
    for (const owner of HOSTILE) {
      const prefix = userPrefix(family, owner)
      const end = prefixEnd(prefix)
      for (const other of HOSTILE) {
        const keys = family === FAMILY.log ? [logKey(other, 0), logKey(other, 2 ** 40 + 7)] : HOSTILE.map(m => family === FAMILY.winner ? winnerKey(other, m) : unreadKey(other, m))
        for (const key of keys) {
          const inside = Buffer.compare(key, prefix) >= 0 && Buffer.compare(key, end) < 0
          checked++
          if (inside !== (other === owner)) problems.push(`family ${family}: a key of ${JSON.stringify(other)} ${inside ? 'inside' : 'outside'} the range of ${JSON.stringify(owner)}`)
        }
      }
    }
  }
  t.same(problems, [])
  t.ok(checked > 5_000, `${checked} keys checked`)
})

t.test('keys keep the byte order of ids and the numeric order of seqs', async t => {
  const users = ['a', 'a\u0000', 'a\u0000b', 'a\u0001', 'aa', 'b'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
  const keys = users.map(countKey)
  t.same([...keys].sort(Buffer.compare), keys)
  const seqs = [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]
  const feed = seqs.map(feedKey)
  t.same([...feed].sort(Buffer.compare), feed)
  t.same(feed.map(seqOfKey), seqs)
  t.same(seqs.map(s => seqOfKey(logKey('a\u0000', s))), seqs)
})

t.test('a truncated component is refused', async t => {
  t.throws(() => readComponent(Buffer.from([FAMILY.winner, 0x61, 0x00]), 1), RangeError)
  t.throws(() => readComponent(Buffer.from([FAMILY.winner, 0x61]), 1), RangeError)
})
