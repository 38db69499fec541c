import t from 'tap'
import { DIGEST_BUCKETS } from '../../src/limits.js'
import { DigestTable } from '../../src/replication/digest-table.js'
import { bucketBitmap, bucketOf, differingBuckets, userDigest } from '../../src/replication/digest.js'
import type { Change, Status } from '../../src/types.js'
import { openStore, prng, shuffle } from '../store/util.js'

const STATUSES: Status[] = ['read', 'unread', 'deleted']
const BASE_TS = (Date.now() - 3_600_000) * 1024
const ALL = bucketBitmap([...Array(DIGEST_BUCKETS).keys()])

function changes (seed: number, users: number, perUser: number): Change[] {
  const random = prng(seed)
  const out: Change[] = []
  for (let u = 0; u < users; u++) {
    for (let m = 0; m < perUser; m++) {
      out.push({ user: `user-${u}`, message: `<m${m}@x>`, status: STATUSES[Math.floor(random() * 3)], origin: random() < 0.5 ? 'a' : 'b', ts: BASE_TS + Math.floor(random() * 1e6) })
    }
  }
  return out
}

async function tableOf (t: Parameters<typeof openStore>[0], batches: Change[][]): Promise<{ table: DigestTable, store: Awaited<ReturnType<typeof openStore>> }> {
  const store = await openStore(t)
  for (const batch of batches) await store.applyRemote(batch, { from: 'b' })
  const table = new DigestTable(store)
  table.start()
  t.teardown(() => table.stop())
  await table.refresh()
  return { table, store }
}

t.test('same winners, entered in any order and batching: same digests, whatever the history', async t => {
  const all = changes(1, 300, 4)
  // Store 2 gets older losers first and the same winners in another order: only winners count.
  const losers = all.map(c => ({ ...c, ts: c.ts - 5, status: 'unread' as Status }))
  const one = await tableOf(t, [all.slice(0, 500), all.slice(500)])
  const two = await tableOf(t, [shuffle(losers, prng(2)), shuffle(all, prng(3)).slice(0, 700), all])
  t.equal(one.table.users, 300)
  t.equal(one.table.root().toString('hex'), two.table.root().toString('hex'))
  t.same(differingBuckets(one.table.bucketHashes(), two.table.bucketHashes()), [])
  const user5 = all.filter(c => c.user === 'user-5').sort((x, y) => x.message < y.message ? -1 : 1)
  t.equal(one.table.digestOf('user-5')?.toString('hex'), userDigest('user-5', user5).toString('hex'))
})

t.test('kept current by writes: incremental equals a fresh scan; one winner apart shows in one bucket', async t => {
  const all = changes(4, 200, 3)
  const one = await tableOf(t, [all])
  const two = await tableOf(t, [all])
  const before = one.table.root().toString('hex')
  const moved = { ...all[10], ts: all[10].ts + 1, status: 'read' as Status }
  await one.store.applyRemote([moved], { from: 'b' })
  await one.store.mark([{ user: 'new-user', message: 'x', status: 'unread' }])
  await one.table.refresh()
  t.not(one.table.root().toString('hex'), before)
  t.equal(one.table.users, 201)
  const fresh = new DigestTable(one.store)
  fresh.start()
  t.teardown(() => fresh.stop())
  await fresh.refresh()
  t.equal(one.table.root().toString('hex'), fresh.root().toString('hex'), 'incremental = full scan')

  await two.store.applyRemote([moved], { from: 'b' })
  await two.table.refresh()
  const differ = differingBuckets(one.table.bucketHashes(), two.table.bucketHashes())
  t.same(differ, [bucketOf('new-user')], 'only the bucket of the user one side lacks')
  const page = one.table.page(bucketBitmap(differ), null, 100).map(u => u.user)
  t.ok(page.includes('new-user'))
  t.notOk(two.table.page(bucketBitmap(differ), null, 100).some(u => u.user === 'new-user'))
})

t.test('pages: (bucket, user) order, after, until and limit', async t => {
  const { table } = await tableOf(t, [changes(5, 500, 1)])
  const all = table.page(ALL, null, 10_000)
  t.equal(all.length, 500)
  const keys = all.map(u => ({ bucket: bucketOf(u.user), user: u.user }))
  for (let i = 1; i < keys.length; i++) {
    const [p, q] = [keys[i - 1], keys[i]]
    if (p.bucket > q.bucket || (p.bucket === q.bucket && p.user >= q.user)) t.fail(`out of order at ${i}`)
  }
  const pages: string[] = []
  let after: { bucket: number, user: string } | null = null
  for (let n = 0; n < 100; n++) {
    const page = table.page(ALL, after, 64)
    if (page.length === 0) break
    pages.push(...page.map(u => u.user))
    const last = page[page.length - 1].user
    after = { bucket: bucketOf(last), user: last }
  }
  t.same(pages, all.map(u => u.user), 'paging visits every user once')
  const until = keys[99]
  t.equal(table.page(ALL, keys[49], 10_000, until).length, 50, 'after is exclusive, until inclusive')
})
