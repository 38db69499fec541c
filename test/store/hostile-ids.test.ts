import t from 'tap'
import { openStore } from './util.js'

// Separator-like and boundary characters that the validator accepts.
const USERS = ['a', 'a!b', 'a!', 'ab', 'a\u00ff', 'a\xff\xff', 'a\u{1F600}', '\u{1F600}', 'a/b', 'a:b', 'a b', 'a\\0']

t.test("users with separator-like characters never see each other's entries", async t => {
  const store = await openStore(t)
  for (const user of USERS) {
    await store.mark([
      { user, message: `only-${user}`, status: 'unread' },
      { user, message: 'shared', status: user.length % 2 === 0 ? 'read' : 'unread' },
      { user, message: 'a!b', status: 'unread' }
    ])
  }
  for (const user of USERS) {
    const unread = await store.unread(user)
    const expected = [`only-${user}`, 'a!b', ...(user.length % 2 === 0 ? [] : ['shared'])]
    t.same(unread.slice().sort(), expected.slice().sort(), `unread of ${JSON.stringify(user)}`)
    t.equal(await store.unreadCount(user), expected.length)
    const log = await store.log(user)
    t.equal(log.length, 3)
    t.ok(log.every(e => e.user === user), `log of ${JSON.stringify(user)} holds only its own entries`)
    t.equal((await store.get(user, `only-${user}`))?.user, user)
  }
  t.equal(await store.get('a', 'only-a!b'), undefined)
  t.equal(await store.unreadCount('a!c'), 0)
  t.same(await store.unread('a!'), ['a!b', 'only-a!'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))))
})

t.test('ids with control characters are refused, not stored', async t => {
  const store = await openStore(t)
  for (const user of ['a\u0000', 'a\u0000b', '\u0000', 'a\u001f', 'a\u0085']) {
    await t.rejects(store.mark([{ user, message: 'm', status: 'unread' }]), { code: 'INVALID_USER' })
    await t.rejects(store.unread(user), { code: 'INVALID_USER' })
  }
  await t.rejects(store.mark([{ user: 'a', message: 'm\u0000', status: 'unread' }]), { code: 'INVALID_MESSAGE' })
  t.equal(store.lastSeq, 0)
  t.same(await store.feed(0, 10), [])
})
