import t from 'tap'
import { BoundedCache } from '../../src/store/bounded-cache.js'

t.test('keeps at most its bound, forgetting the least recently written first', async t => {
  const cache = new BoundedCache<number>(10)
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, i)
  cache.set('k0', 100) // rewritten: young again
  t.equal(cache.size, 10)
  cache.set('k10', 10)
  t.ok(cache.size <= 10, `size ${cache.size}`)
  t.equal(cache.get('k1'), undefined, 'the oldest write is gone')
  t.equal(cache.get('k0'), 100, 'a rewritten entry stays')
  t.equal(cache.get('k10'), 10)
  for (let i = 0; i < 1_000; i++) cache.set(`x${i}`, i)
  t.ok(cache.size <= 10)
  t.equal(cache.get('x999'), 999)
  cache.clear()
  t.equal(cache.size, 0)
})
