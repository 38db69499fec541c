import t from 'tap'
import { statusAfterEvent } from '../../src/bridge/flags.js'

// The fast path decides a flag event from the status before it and the flags it names.
t.test('flags set', async t => {
  t.equal(statusAfterEvent('unread', 'flags-set', '\\Seen'), 'read')
  t.equal(statusAfterEvent('read', 'flags-set', '\\Seen'), 'read')
  t.equal(statusAfterEvent('deleted', 'flags-set', '\\Seen'), 'deleted', '\\Deleted still set')
  t.equal(statusAfterEvent('read', 'flags-set', '\\Deleted'), 'deleted')
  t.equal(statusAfterEvent('unread', 'flags-set', '\\Flagged $Junk'), 'unread', 'flags outside the mapping change nothing')
  t.equal(statusAfterEvent('unread', 'flags-set', '\\seen'), 'read', 'case-insensitive')
})

t.test('flags cleared', async t => {
  t.equal(statusAfterEvent('read', 'flags-clear', '\\Seen'), 'unread')
  t.equal(statusAfterEvent('deleted', 'flags-clear', '\\Seen'), 'deleted', '\\Deleted still set')
  t.equal(statusAfterEvent('deleted', 'flags-clear', '\\Seen \\Deleted'), 'unread')
  t.equal(statusAfterEvent('deleted', 'flags-clear', '\\Deleted'), undefined, '\\Seen unknown: the mailbox is read')
  t.equal(statusAfterEvent('read', 'flags-clear', ''), 'read', 'the empty clear before a set')
})

// The shipped Lua script leaves these out; one from before 6 December 2026 still writes them.
t.test('a flag event without a system flag changes nothing', async t => {
  for (const status of ['unread', 'read', 'deleted'] as const) {
    t.equal(statusAfterEvent(status, 'flags-set', ''), status, `empty set, ${status}`)
    t.equal(statusAfterEvent(status, 'flags-clear', ''), status, `empty clear, ${status}`)
  }
})
