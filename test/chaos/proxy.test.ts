import t from 'tap'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { LinkProxy } from './proxy.js'
import { waitFor } from '../helpers/wait.js'
import type { Teardown } from '../helpers/teardown.js'

async function echoServer (t: Teardown): Promise<Server> {
  const sockets = new Set<Socket>()
  const server = createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.pipe(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return server
}

function portOf (server: Server): number {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening')
  return address.port
}

/** Connects, sends `text`, resolves with what came back and whether the socket closed. */
async function exchange (port: number, text: string, timeoutMs = 2000): Promise<{ reply: string, closed: boolean }> {
  return await new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = ''
    const finish = (closed: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ reply, closed })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.on('error', () => {})
    socket.on('data', chunk => {
      reply += chunk.toString()
      if (reply.length >= text.length) finish(false)
    })
    socket.on('close', () => finish(true))
    socket.write(text)
  })
}

t.test('forwards, cuts open connections, refuses while cut, heals', async t => {
  const server = await echoServer(t)
  const proxy = new LinkProxy({ target: { host: '127.0.0.1', port: portOf(server) } })
  await proxy.start()
  t.teardown(async () => { await proxy.stop() })

  t.same(await exchange(proxy.port, 'hello'), { reply: 'hello', closed: false })

  const open = connect({ host: '127.0.0.1', port: proxy.port })
  open.on('error', () => {})
  const closed = new Promise<void>(resolve => open.once('close', () => resolve()))
  await new Promise<void>(resolve => open.once('connect', () => resolve()))
  await waitFor(() => proxy.connections === 1, { what: 'the proxy to hold one connection' })
  proxy.cut()
  t.equal(proxy.isCut, true)
  await closed
  t.equal(proxy.broken, 1, 'an open connection is broken by cut()')

  const refused = await exchange(proxy.port, 'nothing')
  t.same(refused, { reply: '', closed: true }, 'a new connection is closed without a byte through')
  t.equal(proxy.refused, 1)

  proxy.heal()
  t.same(await exchange(proxy.port, 'again'), { reply: 'again', closed: false })
  t.equal(proxy.accepted, 3)
})

t.test('delay holds every chunk back and keeps order', async t => {
  const server = await echoServer(t)
  const proxy = new LinkProxy({ target: { host: '127.0.0.1', port: portOf(server) }, delayMs: 100 })
  await proxy.start()
  t.teardown(async () => { await proxy.stop() })
  t.equal(proxy.delayMs, 100)

  const started = Date.now()
  const result = await exchange(proxy.port, 'abcdef')
  const elapsed = Date.now() - started
  t.same(result, { reply: 'abcdef', closed: false })
  t.ok(elapsed >= 190, `round trip took ${elapsed} ms, at least two delays`)

  // Many small writes arrive complete and in order.
  const socket = connect({ host: '127.0.0.1', port: proxy.port })
  socket.on('error', () => {})
  let got = ''
  socket.on('data', chunk => { got += chunk.toString() })
  const expected: string[] = []
  for (let i = 0; i < 50; i++) {
    expected.push(`<${i}>`)
    socket.write(`<${i}>`)
    if (i === 25) proxy.setDelay(0)
  }
  await waitFor(() => got.length === expected.join('').length, { what: 'every chunk to come back' })
  t.equal(got, expected.join(''))
  socket.destroy()
  t.throws(() => proxy.setDelay(-1), TypeError)
})

t.test('a refused upstream closes the client; stop is idempotent', async t => {
  const server = await echoServer(t)
  const port = portOf(server)
  await new Promise<void>(resolve => server.close(() => resolve()))
  const proxy = new LinkProxy({ target: { host: '127.0.0.1', port } })
  t.throws(() => proxy.port, /not listening/)
  await proxy.start()
  await proxy.start()
  const result = await exchange(proxy.port, 'x')
  t.same(result, { reply: '', closed: true })
  await proxy.stop()
  await proxy.stop()
  t.equal(proxy.connections, 0)
})
